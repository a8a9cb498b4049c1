"""One writer per run folder; a dead holder's lock is no lock."""
import os
import subprocess
import sys
import time

import pytest

from opencompass.errors import RunInUseError
from opencompass.tasks.run_lock import RunLock

HOLD = '''
import sys, time
from opencompass.tasks.run_lock import RunLock
RunLock(sys.argv[1]).acquire()
print('held', flush=True)
time.sleep(60)
'''


def test_second_writer_is_refused_with_the_holders_pid(tmp_path, repo_root):
    holder = subprocess.Popen([sys.executable, '-c', HOLD, str(tmp_path)],
                              stdout=subprocess.PIPE, text=True, cwd=repo_root)
    try:
        assert holder.stdout.readline().strip() == 'held'
        with pytest.raises(RunInUseError, match=f'pid {holder.pid}'):
            RunLock(str(tmp_path)).acquire()
    finally:
        holder.kill()
        holder.wait()
    # SIGKILL left the lock file behind; it is stale, so it no longer blocks
    lock = RunLock(str(tmp_path)).acquire()
    lock.release()


def test_release_lets_the_next_run_in(tmp_path):
    first = RunLock(str(tmp_path)).acquire()
    first.release()
    second = RunLock(str(tmp_path)).acquire()  # raises RunInUseError if held
    assert f'"pid": {os.getpid()}' in (tmp_path / '.lock').read_text()
    second.release()
