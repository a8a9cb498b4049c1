"""Make the whole filesystem read-only except one folder, then run a program.

Run by `opencompass.utils.sandbox` as `python -I -c <this source> WORKDIR
PROGRAM` inside fresh user, mount, network and PID namespaces (so it changes
nothing outside them). It:

1. bind-mounts WORKDIR onto itself, so it stays writable;
2. remounts every other mount read-only (keeping the flags the kernel locks);
3. enters one more user namespace, which owns none of these mounts, so the
   program cannot remount anything writable again;
4. execs `python -I -B PROGRAM` in WORKDIR.

It exits 125 with one line on stderr when a step fails; the sandbox probes it
once and falls back to weaker fences where it cannot work.
Standard library only, and no import of the opencompass package.
"""
import ctypes
import os
import re
import sys

MS_RDONLY, MS_NOSUID, MS_NODEV, MS_NOEXEC = 1, 2, 4, 8
MS_REMOUNT, MS_BIND = 32, 4096
MS_NOATIME, MS_NODIRATIME = 1024, 2048
MS_RELATIME, MS_STRICTATIME = 1 << 21, 1 << 24
CLONE_NEWUSER = 0x10000000
# per-mount options that must be kept on a remount (the kernel locks them)
KEEP = {'nosuid': MS_NOSUID, 'nodev': MS_NODEV, 'noexec': MS_NOEXEC,
        'noatime': MS_NOATIME, 'nodiratime': MS_NODIRATIME,
        'relatime': MS_RELATIME, 'strictatime': MS_STRICTATIME}

_libc = ctypes.CDLL(None, use_errno=True)


def _check(result, what):
    if result != 0:
        err = ctypes.get_errno()
        sys.stderr.write(f'sandbox fence: {what}: {os.strerror(err)}\n')
        sys.exit(125)


def _mount(source, target, flags):
    _check(_libc.mount(source.encode(), target.encode(), None, flags, None),
           f'mount {target}')


def mount_points():
    """(mount point, per-mount options) of this mount namespace."""
    points = []
    with open('/proc/self/mountinfo') as f:
        for line in f:
            fields = line.split()
            point = re.sub(r'\\(\d{3})', lambda m: chr(int(m.group(1), 8)),
                           fields[4])
            points.append((point, fields[5].split(',')))
    return points


def main(workdir, program):
    workdir = os.path.realpath(workdir)
    _mount(workdir, workdir, MS_BIND)
    for point, options in mount_points():
        if point == workdir:
            continue
        flags = MS_REMOUNT | MS_BIND | MS_RDONLY
        for option in options:
            flags |= KEEP.get(option, 0)
        _mount('none', point, flags)
    _check(_libc.unshare(CLONE_NEWUSER), 'unshare(CLONE_NEWUSER)')
    os.chdir(workdir)  # the old working directory is the read-only one below
    os.execv(sys.executable, [sys.executable, '-I', '-B', program])


if __name__ == '__main__':
    main(sys.argv[1], sys.argv[2])
