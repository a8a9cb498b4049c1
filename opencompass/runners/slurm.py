"""The Slurm runner: every infer task is a Slurm job.

Each task (a (model, dataset) pair or one shard of it) is pickled into the run
folder and submitted with `sbatch`, asking for `--gres=gpu:<run_cfg.num_gpus>`
and CPUs; the job runs `python -m opencompass.tasks.run_task TASK_FILE`, the
same code a local worker runs, so the cluster needs nothing but Slurm and the
shared filesystem the outputs live on. Logs go to
`logs/infer/<model>/<dataset>[_<shard>].out` (appended across retries).

Failed jobs are resubmitted up to `retry` times and then reported by name; a
job cancelled with `scancel` is reported at once (someone meant it) and `-r`
finishes it. Ctrl-C or SIGTERM of `run.py` cancels every job it submitted; a
small reaper process (`runners/slurm_reaper.py`) does the same if `run.py` is
killed outright, so no job is orphaned on the cluster.
"""
import json
import logging
import os
import pickle
import shlex
import subprocess
import sys
import time

from opencompass.errors import OpenCompassError, TasksFailedError
from opencompass.utils.names import file_name

logger = logging.getLogger(__name__)
ACTIVE = {'PENDING', 'CONFIGURING', 'RUNNING', 'COMPLETING', 'SUSPENDED',
          'REQUEUED', 'RESIZING', 'SIGNALING', 'STAGE_OUT'}


def _slurm(cmd, timeout=60):
    """Run a Slurm command; a missing or failing command is one clear line."""
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True,
                              timeout=timeout)
    except FileNotFoundError:
        raise OpenCompassError(
            f'{cmd[0]} not found: --slurm needs the Slurm client commands '
            '(sbatch, squeue, scontrol, scancel) on PATH') from None
    except subprocess.TimeoutExpired:
        raise OpenCompassError(f'{cmd[0]} did not answer in {timeout} s; is '
                               'the Slurm controller up?') from None
    if proc.returncode:
        raise OpenCompassError(f'{" ".join(cmd[:2])} failed: '
                               f'{" ".join(proc.stderr.split())[:300]}')
    return proc.stdout


class SlurmRunner:
    """Upstream's arguments: `partition`, `qos`, `retry`, `max_num_workers`
    (jobs in the queue at once), `extra_command` (more sbatch flags), and the
    accepted-but-unused `task`, `quotatype`, `debug`, `lark_bot_url`."""

    def __init__(self, partition=None, qos=None, retry=2, max_num_workers=32,
                 extra_command=None, cpus_per_task=1, poll_interval=1.0,
                 task=None, quotatype=None, debug=False, lark_bot_url=None,
                 **kwargs):
        self.partition = partition
        self.qos = qos
        self.retry = int(retry)
        self.max_num_workers = int(max_num_workers or 1)
        self.extra_command = list(extra_command or [])
        self.cpus_per_task = int(cpus_per_task)
        self.poll_interval = float(poll_interval)
        if quotatype:
            logger.warning('SlurmRunner: quotatype=%r has no Slurm meaning here; '
                           'use qos', quotatype)

    # ---- submission ---------------------------------------------------------
    def _sbatch(self, task, layout, task_file):
        log = layout.infer_log(_model(task), _dataset(task), task.shard)
        os.makedirs(os.path.dirname(log), exist_ok=True)
        cpus = int((task.model.get('run_cfg') or {}).get('num_cpus') or
                   self.cpus_per_task)
        cmd = ['sbatch', '--parsable', f'--job-name=oc-{_short(task.name)}',
               f'--output={log}', '--open-mode=append', '--nodes=1',
               '--ntasks=1', f'--cpus-per-task={cpus}', f'--chdir={os.getcwd()}',
               '--export=ALL']
        if self.partition:
            cmd.append(f'--partition={self.partition}')
        if self.qos:
            cmd.append(f'--qos={self.qos}')
        if task.num_gpus:
            cmd.append(f'--gres=gpu:{task.num_gpus}')
        cmd += self.extra_command
        cmd.append('--wrap=' + ' '.join(shlex.quote(a) for a in (
            sys.executable, '-m', 'opencompass.tasks.run_task', task_file)))
        return _slurm(cmd).strip().split(';')[0]

    def _write_task(self, task, layout):
        folder = os.path.join(layout.root, 'tmp', 'tasks')
        os.makedirs(folder, exist_ok=True)
        suffix = task.shard.suffix if task.shard else ''
        path = os.path.join(folder, f'{file_name(_model(task))}__'
                            f'{file_name(_dataset(task))}{suffix}.pkl')
        with open(path, 'wb') as f:
            pickle.dump(task, f)
        if os.path.exists(path + '.status'):
            os.remove(path + '.status')
        return path

    # ---- the loop -----------------------------------------------------------
    def run(self, tasks, layout):
        from opencompass.runners.slurm_reaper import Reaper
        waiting, running, failed = list(tasks), {}, {}
        with Reaper(os.path.join(layout.root, 'tmp', 'slurm_jobs.txt')) as reaper:
            try:
                while waiting or running:
                    while waiting and len(running) < self.max_num_workers:
                        self._submit(waiting.pop(0), 0, layout, running, reaper)
                    time.sleep(self.poll_interval)
                    self._collect(running, failed, layout, reaper)
            except BaseException:
                _cancel(list(running))
                raise
        if failed:
            names = '; '.join(f'{name} ({why})' for name, why in failed.items())
            raise TasksFailedError(
                f'{len(failed)} Slurm task(s) did not finish: {names}; the '
                'predictions they made are kept: fix the cause (see '
                'logs/infer/), then resume with -r')

    def _submit(self, task, attempt, layout, running, reaper):
        task_file = self._write_task(task, layout)
        job_id = self._sbatch(task, layout, task_file)
        reaper.add(job_id)
        running[job_id] = (task, attempt, task_file)
        logger.info('%s: Slurm job %s%s', task.name, job_id,
                    f' (retry {attempt})' if attempt else '')

    def _collect(self, running, failed, layout, reaper):
        for job_id, (state, why, retryable) in _states(running).items():
            if state in ACTIVE:
                continue
            task, attempt, task_file = running.pop(job_id)
            reaper.forget(job_id)
            if state == 'COMPLETED':
                continue
            if state == 'CANCELLED':
                failed[task.name] = f'job {job_id} cancelled'
            elif retryable and attempt < self.retry:
                logger.warning('%s: job %s %s (%s); resubmitting', task.name,
                               job_id, state.lower(), why)
                self._submit(task, attempt + 1, layout, running, reaper)
            else:
                failed[task.name] = f'job {job_id} {state.lower()}: {why}'


def _model(task):
    return str(task.model.get('abbr') or 'model')


def _dataset(task):
    return str(task.dataset.get('abbr') or 'dataset')


def _short(name):
    return file_name(name)[:60]


def _states(running):
    """job id -> (state, reason, retryable) for the running jobs."""
    out = _slurm(['squeue', '-h', '-o', '%i %T', '-j', ','.join(running)])
    states = {}
    for line in out.splitlines():
        parts = line.split()
        if len(parts) >= 2 and parts[0] in running:
            states[parts[0]] = (parts[1], '', True)
    for job_id, (_, _, task_file) in running.items():
        if job_id not in states:
            states[job_id] = _final_state(job_id, task_file)
    return states


def _final_state(job_id, task_file):
    """A job that left the queue: its task's status file says whether it
    finished (and why not); scontrol says how the job ended (CANCELLED,
    FAILED, TIMEOUT, ...). An error the user must fix (a missing path, a bad
    config) is not worth a retry."""
    status = _read_status(task_file)
    if status.get('ok'):
        return 'COMPLETED', '', False
    try:
        out = _slurm(['scontrol', '-o', 'show', 'job', job_id])
        fields = dict(kv.split('=', 1) for kv in out.split() if '=' in kv)
        state = fields.get('JobState', 'FAILED')
    except OpenCompassError:  # aged out of the controller's memory
        state = 'FAILED'
    if state in ACTIVE:  # left squeue a moment ago, still completing
        return state, '', True
    if state == 'COMPLETED':  # exit 0, yet the task never said it finished
        state = 'FAILED'
    why = status.get('error') or 'no status written; see its log'
    return state, why, not status.get('user_error', False)


def _read_status(task_file):
    try:
        with open(task_file + '.status', encoding='utf-8') as f:
            return json.load(f)
    except (OSError, ValueError):
        return {}


def _cancel(job_ids):
    if job_ids:
        subprocess.run(['scancel', *job_ids], capture_output=True, timeout=60)
        logger.warning('cancelled Slurm job(s) %s', ', '.join(job_ids))
