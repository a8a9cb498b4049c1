"""End to end on the embedded model: the demo config, GSM8K few-shot (base) and
zero-shot (chat), and a run killed half-way then resumed with -r."""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time

import pytest


pytestmark = pytest.mark.slow
REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared'
EMBEDDED = 'embedded://smollm2-135m-instruct'


def _run_dir(work_dir):
    runs = sorted(os.listdir(work_dir))
    return os.path.join(work_dir, runs[-1])


def _lines(path):
    with open(path) as f:
        return [json.loads(line) for line in f]


def test_demo_config(cli, tmp_path, repo_root):
    proc = cli(repo_root / 'configs' / 'eval_demo.py', '--test-range', '[0:10]',
               '-w', 'outputs/demo')
    assert proc.returncode == 0, proc.stderr
    run = _run_dir(tmp_path / 'outputs' / 'demo')
    result = json.load(open(os.path.join(
        run, 'results', 'smollm2-135m-instruct-hf', 'demo-math.json')))
    assert result['num_samples'] == 10 and result['failed'] == 0
    correct = sum(d['correct'] for d in result['details'])
    assert result['accuracy'] == pytest.approx(100 * correct / 10)
    assert f"{result['accuracy']:.2f}" in proc.stdout  # the printed table
    stamp = os.path.basename(run)
    for ext in ('txt', 'csv', 'md'):
        assert os.path.isfile(os.path.join(run, 'summary', f'summary_{stamp}.{ext}'))
    assert os.path.isfile(os.path.join(run, 'configs', f'{stamp}.py'))
    assert os.path.isfile(os.path.join(run, 'logs', 'run.log'))
    preds = _lines(os.path.join(run, 'predictions', 'smollm2-135m-instruct-hf',
                                'demo-math.jsonl'))
    assert [p['idx'] for p in preds] == list(range(10))


def test_gsm8k_fewshot_base_and_zeroshot_chat(cli, tmp_path, gsm8k_dir):
    proc = cli('--models', 'hf_smollm2_135m', 'hf_smollm2_135m_instruct',
               '--datasets', 'gsm8k_gen', 'gsm8k_gen_4shot', '--test-range',
               '[0:3]', '--max-out-len', '40', '-w', 'out')
    assert proc.returncode == 0, proc.stderr
    run = _run_dir(tmp_path / 'out')
    for model in ('smollm2-135m-hf', 'smollm2-135m-instruct-hf'):
        for ds in ('gsm8k', 'gsm8k-4shot'):
            res = json.load(open(os.path.join(run, 'results', model, f'{ds}.json')))
            assert res['num_samples'] == 3
    fewshot = _lines(os.path.join(run, 'predictions', 'smollm2-135m-hf',
                                  'gsm8k-4shot.jsonl'))
    prompt = fewshot[0]['origin_prompt']
    texts = [p['prompt'] for p in prompt]
    assert sum(t.startswith('Question:') for t in texts) == 5  # 4 shots + test
    assert all('Question:' not in p['prediction'] for p in fewshot)  # stopped
    for line in ('gsm8k ', 'gsm8k-4shot'):
        assert line in proc.stdout


def test_killed_run_resumes_only_the_rest(tmp_path):
    args = [sys.executable, str(REPO / 'run.py'), '--hf-path', EMBEDDED,
            '--datasets', 'demo_math_gen', '--test-range', '[0:12]',
            '--batch-size', '1', '--max-out-len', '32', '-w', 'w']
    env = {**os.environ, 'PYTHONPATH': str(REPO), 'COMPASS_DATA_CACHE': str(SHARED)}
    proc = subprocess.Popen(args, cwd=tmp_path, env=env, stdout=subprocess.DEVNULL,
                            stderr=subprocess.DEVNULL)
    deadline = time.time() + 300
    pred = None
    while time.time() < deadline and proc.poll() is None:
        run_root = tmp_path / 'w'
        if run_root.is_dir() and os.listdir(run_root):
            pred = os.path.join(_run_dir(run_root), 'predictions',
                                'smollm2-135m-instruct-hf', 'demo-math.jsonl')
            if os.path.exists(pred) and len(open(pred).readlines()) >= 3:
                break
        time.sleep(0.2)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    before = {r['idx']: r for r in _lines(pred)}
    assert 3 <= len(before) < 12
    resumed = subprocess.run(args + ['-r'], cwd=tmp_path, env=env,
                             capture_output=True, text=True, timeout=600)
    assert resumed.returncode == 0, resumed.stderr
    after = {r['idx']: r for r in _lines(pred)}
    assert sorted(after) == list(range(12))
    assert all(after[i] == before[i] for i in before)  # nothing recomputed
    stats = json.load(open(pred.replace('.jsonl', '.stats.json')))
    assert stats['samples'] == 12 - len(before)
    assert f'{12 - len(before)} of 12 samples left' in resumed.stderr


def test_parallel_workers_run_every_task(cli, tmp_path, gsm8k_dir):
    proc = cli('--hf-path', EMBEDDED, '--datasets', 'demo_math_gen', 'gsm8k_gen',
               '--test-range', '[0:2]', '--max-out-len', '8',
               '--max-num-workers', '2', '-w', 'par')
    assert proc.returncode == 0, proc.stderr
    run = _run_dir(tmp_path / 'par')
    for ds in ('demo-math', 'gsm8k'):
        preds = _lines(os.path.join(run, 'predictions', 'smollm2-135m-instruct-hf',
                                    f'{ds}.jsonl'))
        assert [p['idx'] for p in preds] == [0, 1]
        assert all(p['out_tokens'] for p in preds)
