"""Cancel a run's Slurm jobs if `run.py` dies without doing it itself.

SIGINT and SIGTERM let the Slurm runner cancel its jobs; SIGKILL does not. So
while jobs are out, a small reaper process waits on a pipe from `run.py`: when
the pipe closes without the word 'done' (the run died, however), it cancels
every job id still listed in the jobs file and exits. It lives in its own
session, so the signal that killed the run does not kill it too.

    python -m opencompass.runners.slurm_reaper JOBS_FILE
"""
import os
import subprocess
import sys


class Reaper:
    """The run's side: lists job ids in `jobs_file` and keeps the reaper's
    pipe open; on a normal exit says 'done' so nothing is cancelled."""

    def __init__(self, jobs_file):
        self.jobs_file = jobs_file
        self.jobs = []
        self.proc = None

    def __enter__(self):
        os.makedirs(os.path.dirname(self.jobs_file), exist_ok=True)
        self._save()
        self.proc = subprocess.Popen(
            [sys.executable, '-m', 'opencompass.runners.slurm_reaper',
             self.jobs_file], stdin=subprocess.PIPE, start_new_session=True,
            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        return self

    def add(self, job_id):
        self.jobs.append(job_id)
        self._save()

    def forget(self, job_id):
        self.jobs.remove(job_id)
        self._save()

    def _save(self):
        tmp = self.jobs_file + '.tmp'
        with open(tmp, 'w') as f:
            f.write(''.join(j + '\n' for j in self.jobs))
        os.replace(tmp, self.jobs_file)

    def __exit__(self, *exc):
        try:
            self.proc.stdin.write(b'done')
            self.proc.stdin.close()
            self.proc.wait(timeout=30)
        except (OSError, subprocess.TimeoutExpired):
            self.proc.kill()
        return False


def main(jobs_file):
    said = sys.stdin.buffer.read()  # returns when run.py closes or dies
    if said == b'done':
        return 0
    try:
        with open(jobs_file) as f:
            jobs = [line.strip() for line in f if line.strip()]
    except OSError:
        return 0
    if jobs:
        subprocess.run(['scancel', *jobs], capture_output=True, timeout=60)
    return 0


if __name__ == '__main__':
    sys.exit(main(sys.argv[1]))
