"""Start and stop real OpenAI-compatible servers on 127.0.0.1 for tests and benchmarks.

Each context manager picks a free port, starts the server in its own process
group, waits (bounded) until it answers, yields an object with `.base_url`
('http://127.0.0.1:P/v1') and `.model` (the name requests must carry), and on
exit kills the whole process group, so no server outlives its test.
"""
import contextlib
import dataclasses
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request


@dataclasses.dataclass
class RunningServer:
    base_url: str
    model: str
    process: subprocess.Popen
    log_path: str
    n_ctx: int = None

    def log_tail(self, chars=2000):
        try:
            with open(self.log_path, encoding='utf-8', errors='replace') as f:
                return f.read()[-chars:]
        except OSError:
            return ''


def free_port():
    with socket.socket() as sock:
        sock.bind(('127.0.0.1', 0))
        return sock.getsockname()[1]


def _ready(url):
    try:
        with urllib.request.urlopen(url, timeout=2) as resp:
            return resp.status == 200
    except (urllib.error.URLError, OSError):
        return False


def _detach():
    """In the child: own process group (killed as a whole), and SIGKILL when
    the parent dies, so a killed test run never leaves a server behind."""
    os.setsid()
    try:
        import ctypes
        libc = ctypes.CDLL('libc.so.6', use_errno=True)
        libc.prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except (OSError, AttributeError):
        pass


def _stop(process, grace=10):
    """SIGTERM the process group, then SIGKILL what is left."""
    if process.poll() is not None:
        return
    for sig, wait in ((signal.SIGTERM, grace), (signal.SIGKILL, 5)):
        try:
            os.killpg(process.pid, sig)
        except ProcessLookupError:
            return
        try:
            process.wait(timeout=wait)
            return
        except subprocess.TimeoutExpired:
            continue


@contextlib.contextmanager
def _serve(cmd, ready_path, model, port, startup_timeout, n_ctx=None, env=None):
    log = tempfile.NamedTemporaryFile('w', prefix='server-', suffix='.log',
                                      delete=False)
    process = subprocess.Popen(cmd, stdout=log, stderr=subprocess.STDOUT,
                               stdin=subprocess.DEVNULL, preexec_fn=_detach,
                               env={**os.environ, **(env or {})})
    log.close()
    server = RunningServer(f'http://127.0.0.1:{port}/v1', model, process, log.name,
                           n_ctx)
    try:
        deadline = time.monotonic() + startup_timeout
        while not _ready(f'http://127.0.0.1:{port}{ready_path}'):
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f'server {cmd[:3]} did not start within '
                                   f'{startup_timeout}s:\n{server.log_tail()}')
            time.sleep(0.3)
        yield server
    finally:
        _stop(process)
        os.unlink(log.name)


def llama_cpp_server(gguf_path, n_ctx=2048, startup_timeout=120):
    """llama-cpp-python's server; 1 thread beats 2 on this machine (SERVERS.md)."""
    port = free_port()
    cmd = [sys.executable, '-m', 'llama_cpp.server', '--model', str(gguf_path),
           '--host', '127.0.0.1', '--port', str(port), '--n_ctx', str(n_ctx),
           '--n_threads', '1']
    return _serve(cmd, '/v1/models', str(gguf_path), port, startup_timeout, n_ctx)


def transformers_executable():
    """The `transformers` CLI next to this interpreter (the venv's), else PATH's."""
    local = os.path.join(os.path.dirname(sys.executable), 'transformers')
    return local if os.path.isfile(local) else shutil.which('transformers')


def transformers_server(model_dir, startup_timeout=180, continuous_batching=True,
                        threads=None):
    """`transformers serve` pinned to `model_dir`; requests must name that
    same path as their model (it answers 400 to any other name, measured).
    `threads` sets torch's intra-op threads (OMP_NUM_THREADS)."""
    port = free_port()
    exe = transformers_executable()
    if exe is None:
        raise RuntimeError('the transformers CLI is not installed')
    cmd = [exe, 'serve', '--device', 'cpu', '--host', '127.0.0.1', '--port',
           str(port), str(model_dir)]
    if continuous_batching:
        cmd.insert(2, '--continuous-batching')
    env = {'HF_HUB_OFFLINE': '1'}
    if threads:
        env['OMP_NUM_THREADS'] = str(threads)
    return _serve(cmd, '/health', str(model_dir), port, startup_timeout, env=env)
