"""Run untrusted Python (model-written code) so that it can only fail its own sample.

Each program runs in its own process, started in a fresh session, under these
fences (the weaker fallbacks apply where the stronger one is unavailable):

- wall time: the whole session/process group (and the PID namespace, when there
  is one) is killed when `timeout` passes; CPU time is capped too (RLIMIT_CPU);
- memory (RLIMIT_AS), process count (RLIMIT_NPROC), file size (RLIMIT_FSIZE),
  open files, no core dumps;
- no network: a new, empty network namespace (`unshare --net` in a user
  namespace); without namespaces, socket creation is blocked in the child;
- a PID namespace, so a fork bomb that escapes its process group still dies
  with the namespace's first process;
- a throwaway working folder (also HOME and TMPDIR), deleted afterwards, and a
  minimal environment: no API keys or other secrets of the parent leak in;
- a read-only filesystem except that folder (a mount namespace in which every
  mount is remounted read-only; see sandbox_fence.py);
- when the parent runs as root, the child runs as `nobody` too.

Only the standard library is used; `unshare` comes from util-linux.
"""
import dataclasses
import functools
import logging
import os
import resource
import shutil
import signal
import subprocess
import sys
import tempfile

logger = logging.getLogger(__name__)
NOBODY = 65534
_AS_NOBODY = dict(user=NOBODY, group=NOBODY, extra_groups=[])
# Put in front of the program: Python-level network block, the fallback when
# no network namespace can be made (and a second fence when one is).
_NO_NET_PRELUDE = '''\
import socket as _s
def _no_network(*a, **k):
    raise OSError('network access is disabled in the sandbox')
_s.socket = _s.create_connection = _s.socketpair = _s.fromfd = _no_network
del _s, _no_network
'''


@dataclasses.dataclass
class Limits:
    """Resource limits for one run. `max_procs` counts processes of the user
    the child runs as (added to what that user already runs when not root)."""
    timeout: float = 10.0
    memory_mb: int = 1024
    max_procs: int = 64
    file_size_mb: int = 16
    open_files: int = 256


@dataclasses.dataclass
class SandboxResult:
    status: str  # 'ok' (exit 0), 'error' (non-zero exit) or 'timeout'
    returncode: int
    output: str  # the last 2000 characters of stdout and stderr together

    @property
    def passed(self):
        return self.status == 'ok'


@dataclasses.dataclass(frozen=True)
class _Plan:
    """How programs run here: as `nobody` or not, under which `unshare`
    prefix, with which Python, and whether the read-only fence is up."""
    drop: bool
    prefix: tuple
    python: str
    fence: bool

    def command(self, workdir, program):
        if self.fence:
            return [*self.prefix, self.python, '-I', '-c', _fence_source(),
                    workdir, program]
        return [*self.prefix, self.python, '-I', '-B', program]


@functools.lru_cache(maxsize=None)
def _fence_source():
    from opencompass.utils import sandbox_fence
    with open(sandbox_fence.__file__, encoding='utf-8') as f:
        return f.read()


def _prepare(workdir, program, code, drop):
    with open(program, 'w', encoding='utf-8') as f:
        f.write(code)
    if drop:
        os.chown(workdir, NOBODY, NOBODY)
        os.chown(program, NOBODY, NOBODY)


def _works(plan):
    """Whether a program runs under `plan` (and, with the fence, cannot write
    outside its folder)."""
    workdir = tempfile.mkdtemp(prefix='oc_sandbox_probe_')
    escape = os.path.join(os.path.dirname(workdir), 'oc_probe_escape')
    try:
        program = os.path.join(workdir, 'program.py')
        probe = 'import os, sys\nopen("x", "w").write("ok")\n'  # in its cwd
        if plan.fence:  # writing outside must fail
            probe += (f'try:\n    os.mkdir({escape!r})\n'
                      'except OSError:\n    sys.exit(0)\nsys.exit(3)\n')
        _prepare(workdir, program, probe, plan.drop)
        proc = subprocess.run(plan.command(workdir, program), timeout=30,
                              stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
                              cwd=workdir, **(_AS_NOBODY if plan.drop else {}))
        return proc.returncode == 0
    except (OSError, subprocess.SubprocessError):
        return False
    finally:
        shutil.rmtree(workdir, ignore_errors=True)
        if os.path.isdir(escape):  # only if the fence leaked
            os.rmdir(escape)


@functools.lru_cache(maxsize=None)
def _plan():
    """The strongest fences this system allows, found once by trying them.

    In order: the read-only filesystem fence in user, mount, network and PID
    namespaces; those namespaces without the fence; no namespaces. As root the
    child also runs as `nobody`, with a Python that `nobody` can run: ours if it
    can, else the system's python3 (HumanEval programs need only the standard
    library).
    """
    unshare = shutil.which('unshare')
    namespaces = (unshare, '--user', '--map-root-user', '--net', '--pid',
                  '--fork', '--kill-child') if unshare else None
    modes = [(namespaces + ('--mount', '--mount-proc'), True), (namespaces, False)
             ] if namespaces else []
    modes.append(((), False))
    system = shutil.which('python3', path='/usr/local/bin:/usr/bin:/bin')
    pythons = [sys.executable] + ([system] if system else [])
    root = os.geteuid() == 0
    for drop in ([True, False] if root else [False]):
        for prefix, fence in modes:
            for python in pythons:
                plan = _Plan(drop, prefix, python, fence)
                if _works(plan):
                    _warn_weaker(plan, root)
                    return plan
    return _Plan(False, (), sys.executable, False)


def _warn_weaker(plan, root):
    if root and not plan.drop:
        logger.warning('sandbox: no Python runs as nobody here; generated code '
                       'runs as root')
    if not plan.prefix:
        logger.warning('sandbox: no namespaces (unshare) here; the network is '
                       'blocked in Python only and the filesystem is not fenced')
    elif not plan.fence:
        logger.warning('sandbox: the filesystem cannot be made read-only here; '
                       'generated code can write where its user may')


def _user_process_count(uid):
    count = 0
    for pid in os.listdir('/proc'):
        if pid.isdigit():
            try:
                if os.stat(f'/proc/{pid}').st_uid == uid:
                    count += 1
            except OSError:
                pass
    return count


def _rlimits(limits, nproc):
    mb = 1024 * 1024
    return {'as': limits.memory_mb * mb, 'cpu': int(limits.timeout) + 1,
            'fsize': limits.file_size_mb * mb, 'nofile': limits.open_files,
            'core': 0, 'nproc': nproc}


def _prlimit_prefix(rlimits):
    """util-linux `prlimit` sets the limits in the child by exec, which is
    safe with threads (a Python preexec_fn is not); None if it is missing."""
    exe = shutil.which('prlimit')
    if not exe:
        return None
    return [exe, *(f'--{name}={value}' for name, value in rlimits.items()), '--']


def _preexec_limits(rlimits):
    """Fallback when there is no `prlimit`: set the limits between fork and exec."""
    def setup():
        for name, value in rlimits.items():
            res = getattr(resource, f'RLIMIT_{name.upper()}')
            resource.setrlimit(res, (value, value))
    return setup


def _kill_group(proc):
    try:
        os.killpg(proc.pid, signal.SIGKILL)
    except (ProcessLookupError, PermissionError):
        pass


def run_python(code, limits=None):
    """Run `code` as a Python program in the sandbox; never raises for what the
    code does (exceptions, hangs, bombs, crashes): that is in the result."""
    limits = limits or Limits()
    plan = _plan()
    drop = plan.drop
    workdir = tempfile.mkdtemp(prefix='oc_sandbox_')
    try:
        program = os.path.join(workdir, 'program.py')
        _prepare(workdir, program, _NO_NET_PRELUDE + code, drop)
        nproc = limits.max_procs + (0 if drop else _user_process_count(os.getuid()))
        rlimits = _rlimits(limits, nproc)
        limiter = _prlimit_prefix(rlimits)
        popen = dict(_AS_NOBODY if drop else {}, cwd=workdir, env={
            'PATH': '/usr/bin:/bin', 'HOME': workdir, 'TMPDIR': workdir,
            'LANG': 'C.UTF-8', 'PYTHONHASHSEED': '0'})
        if limiter is None:
            limiter, popen['preexec_fn'] = [], _preexec_limits(rlimits)
        cmd = [*limiter, *plan.command(workdir, program)]
        return _run(cmd, popen, limits.timeout)
    finally:
        shutil.rmtree(workdir, ignore_errors=True)


def _run(cmd, popen, timeout):
    # Output goes to an unnamed file, not a pipe: a flood cannot fill the
    # parent's memory (RLIMIT_FSIZE caps it) and a leftover descendant holding
    # the pipe open cannot make the parent wait.
    with tempfile.TemporaryFile() as out:
        try:
            proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=out,
                                    stderr=subprocess.STDOUT,
                                    start_new_session=True, **popen)
        except OSError as e:  # could not even start: the sample fails, no more
            return SandboxResult('error', -1, f'could not start: {e}')
        try:
            proc.wait(timeout=timeout)
            status = 'ok' if proc.returncode == 0 else 'error'
        except subprocess.TimeoutExpired:
            status = 'timeout'
        finally:
            _kill_group(proc)  # also the leftovers of a program that finished
            proc.wait()
        out.seek(max(0, out.seek(0, os.SEEK_END) - 2000))
        text = out.read().decode('utf-8', 'replace')
    return SandboxResult(status, proc.returncode, text)
