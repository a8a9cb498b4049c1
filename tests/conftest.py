"""Shared fixtures: the repo root, the real GSM8K in ../shared/data (read in place),
and a runner for the CLI in a subprocess."""
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared'
GSM8K = SHARED / 'data' / 'gsm8k'
EMBEDDED = 'embedded://smollm2-135m-instruct'


@pytest.fixture(scope='session')
def repo_root():
    return REPO


@pytest.fixture(scope='session')
def gsm8k_dir():
    if not (GSM8K / 'test.jsonl').is_file():
        pytest.skip(f'GSM8K not found at {GSM8K} (the shared data folder)')
    return GSM8K


@pytest.fixture
def data_env(gsm8k_dir, monkeypatch):
    """Configs say path='opencompass/gsm8k' = $COMPASS_DATA_CACHE/data/gsm8k."""
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(SHARED))
    return str(SHARED)


def run_cli(args, cwd, env=None, timeout=900):
    """Run `python run.py ARGS` in a subprocess; returns the CompletedProcess."""
    full_env = {**os.environ, 'COMPASS_DATA_CACHE': str(SHARED),
                'PYTHONPATH': str(REPO), **(env or {})}
    return subprocess.run([sys.executable, str(REPO / 'run.py'), *args], cwd=cwd,
                          env=full_env, capture_output=True, text=True,
                          timeout=timeout)


@pytest.fixture
def cli(tmp_path):
    """`cli(*args)` runs the CLI with tmp_path as the working directory, so
    outputs land under tmp_path/outputs."""
    return lambda *args, **kw: run_cli([str(a) for a in args], cwd=tmp_path, **kw)
