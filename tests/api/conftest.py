"""Fixtures for the API tests: real servers (started once, one at a time) and
the fault-injecting stand-in.

`llama_cpp_server` and `transformers_server` share one session-wide holder
that keeps at most ONE model server alive (2-core machine): asking for the
other kind stops the running one first; the last one stops at session end.
Consecutive tests of one kind reuse the same server. A missing engine skips
the test with the pip command to install it, so CI's installation decides.
"""
import importlib.util
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
if str(HERE) not in sys.path:  # `import fault_server` in the test modules
    sys.path.insert(0, str(HERE))


def _load(name, path):
    """Load a helper module by file path (tests/ is not a package)."""
    if name in sys.modules:
        return sys.modules[name]
    spec = importlib.util.spec_from_file_location(name, path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


servers = _load('opencompass_test_servers', HERE.parent / 'servers.py')
EMBEDDED = 'embedded://smollm2-135m-instruct'


def _require(module, hint):
    if importlib.util.find_spec(module) is None:
        pytest.skip(f'{module} is not installed: {hint}')


class _OneServer:
    """Holds the single running server; starting another kind stops it."""

    def __init__(self):
        self.kind, self.context, self.server = None, None, None

    def get(self, kind, start):
        if self.kind != kind:
            self.stop()
            context = start()
            self.server = context.__enter__()
            self.kind, self.context = kind, context
        return self.server

    def stop(self):
        if self.context is not None:
            context, self.context, self.kind = self.context, None, None
            context.__exit__(None, None, None)


@pytest.fixture(scope='session')
def _one_server():
    holder = _OneServer()
    try:
        yield holder
    finally:
        holder.stop()


@pytest.fixture
def llama_cpp_server(_one_server):
    """llama-cpp-python serving the embedded SmolLM2 GGUF (n_ctx 2048)."""
    _require('llama_cpp', 'pip install "llama-cpp-python[server]"')
    for dep in ('uvicorn', 'fastapi', 'sse_starlette', 'starlette_context',
                'pydantic_settings'):
        _require(dep, 'pip install "llama-cpp-python[server]"')
    from opencompass.errors import ModelPathError
    from opencompass.utils.embedded import gguf_path
    try:
        gguf = gguf_path(EMBEDDED)
    except ModelPathError as exc:
        pytest.skip(str(exc))
    return _one_server.get('llama-cpp-python',
                           lambda: servers.llama_cpp_server(gguf, n_ctx=2048))


@pytest.fixture
def transformers_server(_one_server):
    """`transformers serve --continuous-batching` on the embedded model."""
    for dep in ('transformers', 'fastapi', 'uvicorn'):
        _require(dep, 'pip install "transformers[serving]"')
    if servers.transformers_executable() is None:
        pytest.skip('the transformers CLI is not installed: '
                    'pip install "transformers[serving]"')
    from opencompass.errors import ModelPathError
    from opencompass.utils.embedded import resolve_model_path
    try:
        model_dir = resolve_model_path(EMBEDDED)
    except ModelPathError as exc:
        pytest.skip(str(exc))
    return _one_server.get('transformers',
                           lambda: servers.transformers_server(model_dir))
