"""The Slurm runner on a real single-node Slurm (Debian's slurmctld, slurmd
and munge, started here; see tests/helpers/slurm_cluster.py), never a mock of
sbatch: a sharded sweep, a retried job, a cancelled job finished by -r, and
no job left in the queue when run.py is interrupted or killed."""
import importlib.util
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest

pytestmark = pytest.mark.slow
REPO = pathlib.Path(__file__).resolve().parents[2]
HELPERS = REPO / 'tests' / 'helpers'


def _load(name):
    spec = importlib.util.spec_from_file_location(f'{name}_for_slurm_tests',
                                                  HELPERS / f'{name}.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scripted_config_text = _load('scripted_model').scripted_config_text


@pytest.fixture(scope='module')
def cluster(tmp_path_factory):
    cluster = _load('slurm_cluster').SlurmCluster(tmp_path_factory.mktemp('slurm'))
    why = cluster.start()
    if why:
        cluster.stop()
        pytest.skip(why)
    yield cluster
    cluster.stop()


def _env(cluster):
    return {**cluster.env, 'COMPASS_DATA_CACHE': str(REPO.parent / 'shared'),
            'PYTHONPATH': f'{REPO}{os.pathsep}{HELPERS}'}


def _cli(cluster, args, cwd, timeout=300):
    return subprocess.run([sys.executable, str(REPO / 'run.py'), *map(str, args)],
                          cwd=cwd, env=_env(cluster), capture_output=True,
                          text=True, timeout=timeout)


def _two_datasets(path, **kw):
    path.write_text(scripted_config_text(**kw) + (
        "datasets.append(dict(datasets[0], abbr='demo-math-b', infer_cfg="
        "dict(datasets[0]['infer_cfg'], prompt_template=dict(type='PromptTemplate',"
        " template='Q: {question}\\nA:'))))\n"))


def _run(work):
    runs = sorted(p for p in pathlib.Path(work).iterdir() if p.is_dir())
    assert len(runs) == 1
    return runs[0]


def _results(run):
    return {p.relative_to(run).as_posix(): json.loads(p.read_text())['details']
            for p in sorted((run / 'results').rglob('*.json'))}


def _wait_for(predicate, timeout=60):
    deadline = time.time() + timeout
    while time.time() < deadline:
        if predicate():
            return True
        time.sleep(0.2)
    return False


def test_sharded_sweep_gives_the_local_results(cluster, tmp_path):
    _two_datasets(tmp_path / 'cfg.py', n=12)
    local = _cli(cluster, ['cfg.py', '-w', 'local'], tmp_path)
    assert local.returncode == 0, local.stderr
    slurm = _cli(cluster, ['cfg.py', '-w', 'slurm', '--slurm', '--num-shards', '3'],
                 tmp_path)
    assert slurm.returncode == 0, slurm.stderr
    run = _run(tmp_path / 'slurm')
    assert _results(run) == _results(_run(tmp_path / 'local'))
    assert slurm.stdout.split('outputs:')[0] == local.stdout.split('outputs:')[0]
    logs = sorted(p.name for p in (run / 'logs' / 'infer' / 'scripted').iterdir())
    assert logs == sorted(f'{d}_{k}.out' for d in ('demo-math', 'demo-math-b')
                          for k in range(3))
    assert len(list((run / 'predictions' / 'scripted' / 'shards').glob(
        '*.jsonl'))) == 6
    assert cluster.jobs() == []


def test_a_job_that_fails_once_is_retried(cluster, tmp_path):
    _two_datasets(tmp_path / 'cfg.py', n=6,
                  crash_once_file=str(tmp_path / 'crashed'))
    proc = _cli(cluster, ['cfg.py', '-w', 'out', '--slurm', '--num-shards', '2',
                          '--retry', '1'], tmp_path)
    assert proc.returncode == 0, proc.stderr
    assert 'resubmitting' in proc.stderr
    run = _run(tmp_path / 'out')
    logs = ''.join(p.read_text() for p in (run / 'logs').rglob('*.out'))
    assert 'scripted crash (first attempt)' in logs
    assert all(len(d) == 6 for d in _results(run).values())


def test_retries_exhausted_names_the_task(cluster, tmp_path):
    bad = tmp_path / 'cfg.py'
    _two_datasets(bad, n=4, crash_once_file=str(tmp_path / 'crashed'))
    proc = _cli(cluster, ['cfg.py', '-w', 'out', '--slurm', '--retry', '0'],
                tmp_path)
    assert proc.returncode == 4, proc.stderr
    line, = [l for l in proc.stderr.splitlines() if l.startswith('error: ')]
    assert 'scripted/demo-math' in line and 'scripted crash' in line
    assert _cli(cluster, ['cfg.py', '-w', 'out', '--slurm', '-r'],
                tmp_path).returncode == 0


def test_scancel_is_reported_and_resume_finishes(cluster, tmp_path):
    _two_datasets(tmp_path / 'cfg.py', n=8, delay=0.5)
    proc = subprocess.Popen(
        [sys.executable, str(REPO / 'run.py'), 'cfg.py', '-w', 'out', '--slurm',
         '--num-shards', '2'], cwd=tmp_path, env=_env(cluster),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    running = lambda: cluster.run('squeue', '-h', '-t', 'R', '-o', '%i'
                                  ).stdout.split()
    assert _wait_for(running)
    victim = running()[0]
    cluster.run('scancel', victim)
    _, stderr = proc.communicate(timeout=300)
    assert proc.returncode == 4, stderr
    assert f'job {victim} cancelled' in stderr and '-r' in stderr
    resumed = _cli(cluster, ['cfg.py', '-w', 'out', '--slurm', '-r'], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert all(len(d) == 8 for d in _results(_run(tmp_path / 'out')).values())


@pytest.mark.parametrize('sig', [signal.SIGINT, signal.SIGTERM, signal.SIGKILL])
def test_interrupting_run_py_leaves_no_job(cluster, tmp_path, sig):
    _two_datasets(tmp_path / 'cfg.py', n=8, delay=1.0)
    proc = subprocess.Popen(
        [sys.executable, str(REPO / 'run.py'), 'cfg.py', '-w', 'out', '--slurm',
         '--num-shards', '4'], cwd=tmp_path, env=_env(cluster),
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
    assert _wait_for(lambda: len(cluster.jobs()) >= 4)
    proc.send_signal(sig)
    proc.communicate(timeout=60)
    assert _wait_for(lambda: cluster.jobs() == [], timeout=30), cluster.jobs()
