"""The local runner: run every infer task (a (model, dataset) pair or a shard
of one), then score them all.

In-process by default: each model is built once, used for all its tasks, then
closed. With `max_num_workers > 1`, each task runs in its own worker process
(spawned, so CUDA and engine state never leak between tasks), with
`run_cfg.num_gpus` GPUs of its own: a task waits until that many are free, so
no two tasks ever share a device.

Workers never outlive the run: each asks the kernel to kill it when its parent
dies (PR_SET_PDEATHSIG, so even a SIGKILL of `run.py` takes them along), and an
interrupt (SIGINT, SIGTERM) of the parent terminates them within seconds,
keeping every prediction they had flushed.
"""
import ctypes
import dataclasses
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import subprocess
import sys

from opencompass.errors import OpenCompassError
from opencompass.tasks.evaluate import score
from opencompass.tasks.infer_task import execute, plan
from opencompass.utils.build import build_model

logger = logging.getLogger(__name__)
STOP_GRACE_S = 5  # seconds a worker gets after SIGTERM before SIGKILL
PR_SET_PDEATHSIG = 1


def die_with_parent():
    """Have the kernel SIGKILL this process when its parent exits (Linux)."""
    if sys.platform.startswith('linux'):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def _worker(task, conn):
    """One task in a worker process; reports the error it ended with."""
    die_with_parent()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        execute(task)
        conn.send(None)
    except KeyboardInterrupt:
        conn.send(None)
    except OpenCompassError as err:
        conn.send((True, str(err)))
    except BaseException as err:  # anything else: say what, for the parent
        conn.send((False, f'{task.name}: {type(err).__name__}: {err}'))
    finally:
        conn.close()


def visible_devices():
    """The GPU ids tasks may be given: $CUDA_VISIBLE_DEVICES, else what
    nvidia-smi lists, else none (a CPU machine)."""
    env = os.environ.get('CUDA_VISIBLE_DEVICES')
    if env is not None:
        return [d.strip() for d in env.split(',') if d.strip()]
    try:
        out = subprocess.run(['nvidia-smi', '-L'], capture_output=True, text=True,
                             timeout=20).stdout
    except (OSError, subprocess.SubprocessError):
        return []
    return [str(i) for i, line in enumerate(out.splitlines())
            if line.startswith('GPU ')]


class _Devices:
    """Hands out GPUs so no two running tasks ever share one."""

    def __init__(self, ids):
        self.free = list(ids)
        self.total = len(self.free)

    def take(self, task):
        """The devices for `task`, () when it needs none (or the machine has
        none), or None when it must wait for others to finish."""
        need = task.num_gpus if self.total else 0
        if need > self.total:
            raise OpenCompassError(
                f'{task.name} needs run_cfg.num_gpus={need} GPUs but only '
                f'{self.total} are visible; lower num_gpus or set '
                'CUDA_VISIBLE_DEVICES')
        if need > len(self.free):
            return None
        taken, self.free = tuple(self.free[:need]), self.free[need:]
        return taken

    def give_back(self, ids):
        self.free.extend(ids)


class _WorkerPool:
    """At most `size` worker processes, one task each, each with GPUs of its
    own (`run_cfg.num_gpus`, through CUDA_VISIBLE_DEVICES)."""

    def __init__(self, size, devices):
        self.size = size
        self.devices = _Devices(devices)
        self.ctx = multiprocessing.get_context('spawn')
        self.running = {}  # sentinel -> (process, connection, task)

    def run(self, tasks):
        waiting, error = list(tasks), None
        try:
            while (waiting and error is None) or self.running:
                self._start_what_fits(waiting if error is None else [])
                error = self._reap() or error
        finally:
            self.stop()
        if error:
            raise _rebuild(error)

    def _start_what_fits(self, waiting):
        for task in list(waiting):
            if len(self.running) >= self.size:
                return
            devices = self.devices.take(task)
            if devices is None:
                continue  # a later, smaller task may fit now
            waiting.remove(task)
            self._start(dataclasses.replace(task, devices=devices))

    def _start(self, task):
        recv, send = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=_worker, daemon=True, args=(task, send))
        proc.start()
        send.close()
        self.running[proc.sentinel] = (proc, recv, task)

    def _reap(self):
        """Wait for a worker to end; returns its error, if any."""
        error = None
        for sentinel in multiprocessing.connection.wait(list(self.running)):
            proc, conn, task = self.running.pop(sentinel)
            proc.join()
            self.devices.give_back(task.devices)
            report = conn.recv() if conn.poll() else (
                False, f'{task.name}: its worker died with exit code '
                f'{proc.exitcode}')
            conn.close()
            error = error or report
        return error

    def stop(self):
        """Terminate what still runs: SIGTERM, then SIGKILL after a grace."""
        procs = [p for p, _, _ in self.running.values() if p.is_alive()]
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(STOP_GRACE_S)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for _, conn, _ in self.running.values():
            conn.close()
        self.running.clear()


def _rebuild(report):
    """The parent's exception for a worker's report (user errors stay one
    line; anything else keeps its type name in the message)."""
    user_error, message = report
    return OpenCompassError(message) if user_error else RuntimeError(message)


class LocalRunner:
    """Tasks on this machine: in this process (one model built once for all
    its tasks), or in `max_num_workers` worker processes. Upstream's
    arguments (`task`, `debug`, `max_workers_per_gpu`, ...) are accepted."""

    def __init__(self, max_num_workers=1, task=None, debug=False, **kwargs):
        self.max_num_workers = int(max_num_workers or 1)

    def run(self, tasks, layout):
        if self.max_num_workers <= 1:
            return _run_in_process(tasks)
        _WorkerPool(self.max_num_workers, visible_devices()).run(tasks)


def _run_in_process(tasks):
    by_model = {}
    for task in tasks:
        by_model.setdefault(id(task.model), []).append(task)
    for group in by_model.values():
        built = []

        def get_model(group=group):
            if not built:
                built.append(build_model(group[0].model))
            return built[0]
        try:
            for task in group:
                execute(task, get_model)
        finally:
            if built:
                built[0].close()


def infer_all(models, datasets, layout, max_workers=1, runner=None,
              partitioner=None):
    """Plan the run's tasks and run them all (locally unless a runner says)."""
    tasks = plan(models, datasets, layout.root, partitioner)
    (runner or LocalRunner(max_workers)).run(tasks, layout)


def eval_all(models, datasets, layout):
    """Score every pair; a judge model is built once for all of them."""
    from opencompass.tasks.judge import JudgePool
    with JudgePool() as judges:
        return {(m.get('abbr'), d.get('abbr')): score(m, d, layout, judges)
                for m in models for d in datasets}
