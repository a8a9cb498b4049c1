"""One writer per run folder.

Two processes appending to, and compacting, the same predictions files lose
predictions; so a run (new or resumed) holds an exclusive `flock` on
`<run>/.lock` for as long as it works there, with its PID and start time in the
file so a second run can say who holds it. The kernel drops the lock when the
holder dies, however it dies, so a stale lock file never blocks a later `-r`.
Worker processes never take the lock: they die with the run that holds it.
"""
import fcntl
import json
import os
import socket
import time

from opencompass.errors import RunInUseError


class RunLock:

    def __init__(self, root):
        self.root = root
        self.path = os.path.join(root, '.lock')
        self._fd = None

    def acquire(self):
        """Take the lock or raise RunInUseError naming the holder."""
        os.makedirs(self.root, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT | os.O_CLOEXEC, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            holder = self._holder()
            os.close(fd)
            raise RunInUseError(
                f'run folder {self.root} is in use by another run ({holder}); wait '
                'for it to finish, or leave out -r to start a new run') from None
        os.ftruncate(fd, 0)
        os.write(fd, json.dumps({'pid': os.getpid(), 'host': socket.gethostname(),
                                 'since': time.strftime('%Y-%m-%d %H:%M:%S')
                                 }).encode())
        self._fd = fd
        return self

    def _holder(self):
        try:
            with open(self.path, encoding='utf-8') as f:
                info = json.load(f)
            return f"pid {info['pid']} on {info['host']}, since {info['since']}"
        except (OSError, ValueError, KeyError, TypeError):
            return 'a process that has not written its PID yet'

    def release(self):
        if self._fd is not None:
            os.close(self._fd)  # closing the descriptor drops the flock
            self._fd = None
