"""The local runner: infer every (model, dataset) pair, then score them all.

In-process by default: each model is built once, used for all its datasets, then
closed. With `max_workers > 1`, each pair runs in its own worker process (spawned,
so CUDA and engine state never leak between tasks).

Workers never outlive the run: each asks the kernel to kill it when its parent
dies (PR_SET_PDEATHSIG, so even a SIGKILL of `run.py` takes them along), and an
interrupt (SIGINT, SIGTERM) of the parent terminates them within seconds,
keeping every prediction they had flushed.
"""
import ctypes
import logging
import multiprocessing
import multiprocessing.connection
import os
import signal
import sys

from opencompass.errors import OpenCompassError
from opencompass.tasks.evaluate import score
from opencompass.tasks.infer import run_infer
from opencompass.tasks.layout import RunLayout
from opencompass.utils.build import build_model

logger = logging.getLogger(__name__)
STOP_GRACE_S = 5  # seconds a worker gets after SIGTERM before SIGKILL
PR_SET_PDEATHSIG = 1


def _infer_model(model_cfg, datasets, layout):
    """All datasets of one model; the model is built at most once."""
    built = []

    def get_model():
        if not built:
            built.append(build_model(model_cfg))
        return built[0]

    try:
        for dataset_cfg in datasets:
            run_infer(model_cfg, dataset_cfg, layout, get_model)
    finally:
        if built:
            built[0].close()


def die_with_parent():
    """Have the kernel SIGKILL this process when its parent exits (Linux)."""
    if sys.platform.startswith('linux'):
        libc = ctypes.CDLL(None, use_errno=True)
        libc.prctl(PR_SET_PDEATHSIG, signal.SIGKILL, 0, 0, 0)
        if os.getppid() == 1:  # the parent died before prctl took effect
            os._exit(1)


def _worker(model_cfg, dataset_cfg, root, conn):
    """One (model, dataset) pair in a worker; reports the error it ended with."""
    die_with_parent()
    signal.signal(signal.SIGTERM, signal.default_int_handler)
    try:
        _infer_model(model_cfg, [dataset_cfg], RunLayout(root))
        conn.send(None)
    except KeyboardInterrupt:
        conn.send(None)
    except OpenCompassError as err:
        conn.send((True, str(err)))
    except BaseException as err:  # anything else: say what, for the parent
        conn.send((False, f'{type(err).__name__}: {err}'))
    finally:
        conn.close()


class _WorkerPool:
    """At most `size` worker processes, one task each."""

    def __init__(self, size):
        self.size = size
        self.ctx = multiprocessing.get_context('spawn')
        self.running = {}  # sentinel -> (process, connection)

    def run(self, tasks):
        tasks, error = list(tasks), None
        try:
            while (tasks and error is None) or self.running:
                while tasks and error is None and len(self.running) < self.size:
                    self._start(*tasks.pop(0))
                error = self._reap() or error
        finally:
            self.stop()
        if error:
            raise _rebuild(error)

    def _start(self, model_cfg, dataset_cfg, root):
        recv, send = self.ctx.Pipe(duplex=False)
        proc = self.ctx.Process(target=_worker, daemon=True,
                                args=(model_cfg, dataset_cfg, root, send))
        proc.start()
        send.close()
        self.running[proc.sentinel] = (proc, recv)

    def _reap(self):
        """Wait for a worker to end; returns its error, if any."""
        error = None
        for sentinel in multiprocessing.connection.wait(list(self.running)):
            proc, conn = self.running.pop(sentinel)
            proc.join()
            report = conn.recv() if conn.poll() else (
                False, f'a worker died with exit code {proc.exitcode}')
            conn.close()
            error = error or report
        return error

    def stop(self):
        """Terminate what still runs: SIGTERM, then SIGKILL after a grace."""
        procs = [p for p, _ in self.running.values() if p.is_alive()]
        for proc in procs:
            proc.terminate()
        for proc in procs:
            proc.join(STOP_GRACE_S)
            if proc.is_alive():
                proc.kill()
                proc.join()
        for _, conn in self.running.values():
            conn.close()
        self.running.clear()


def _rebuild(report):
    """The parent's exception for a worker's report (user errors stay one
    line; anything else keeps its type name in the message)."""
    user_error, message = report
    return OpenCompassError(message) if user_error else RuntimeError(message)


def infer_all(models, datasets, layout, max_workers=1):
    if max_workers <= 1:
        for model_cfg in models:
            _infer_model(model_cfg, datasets, layout)
        return
    _WorkerPool(max_workers).run((m, d, layout.root)
                                 for m in models for d in datasets)


def eval_all(models, datasets, layout):
    return {(m.get('abbr'), d.get('abbr')): score(m, d, layout)
            for m in models for d in datasets}
