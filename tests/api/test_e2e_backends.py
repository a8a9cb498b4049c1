"""End to end through the CLI: `-a openai` against real local servers, and the
backend comparison `-a hf,openai` (table, agreement, chart, disagreements)."""
import csv
import json
import os
import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow
REPO = pathlib.Path(__file__).resolve().parents[2]
SHARED = REPO.parent / 'shared'
EMBEDDED = 'embedded://smollm2-135m-instruct'


def _cli(cwd, *args):
    env = {**os.environ, 'PYTHONPATH': str(REPO), 'COMPASS_DATA_CACHE': str(SHARED)}
    return subprocess.run([sys.executable, str(REPO / 'run.py'), *map(str, args)],
                          cwd=cwd, env=env, capture_output=True, text=True,
                          timeout=900)


def _run_dir(root):
    return root / sorted(os.listdir(root))[-1]


def _preds(run, model):
    path = run / 'predictions' / model / 'gsm8k.jsonl'
    return [json.loads(line) for line in path.read_text().splitlines()]


def _details(run, model):
    return json.loads((run / 'results' / model / 'gsm8k.json').read_text())['details']


def _compare(tmp_path, server, n):
    proc = _cli(tmp_path, '--hf-path', EMBEDDED, '--datasets', 'gsm8k_gen',
                '--test-range', f'[0:{n}]', '--max-out-len', '48', '-a',
                'hf,openai', '--api-base', server.base_url, '--api-model',
                server.model, '-w', 'out')
    assert proc.returncode == 0, proc.stderr[-3000:]
    return proc, _run_dir(tmp_path / 'out')


def test_openai_on_llama_cpp_matches_hf_run(tmp_path, gsm8k_dir, llama_cpp_server):
    """-a openai gives a real summary; its predictions are compared with the
    -a hf predictions of the same slice (greedy on both sides)."""
    proc, run = _compare(tmp_path, llama_cpp_server, 4)
    hf = _preds(run, 'smollm2-135m-instruct-hf')
    api = _preds(run, 'smollm2-135m-instruct-openai')
    assert [p['idx'] for p in api] == [0, 1, 2, 3]
    assert all(p['prediction'].strip() and not p.get('error') for p in api)
    assert all(p['out_tokens'] for p in api)
    table = proc.stdout.split('backend comparison')[0]
    assert 'smollm2-135m-instruct-openai' in table and 'gsm8k' in table
    same = sum(a['prediction'] == b['prediction'] for a, b in zip(hf, api))
    print(f'llama.cpp vs hf: {same}/4 identical texts')


def test_backend_comparison_hf_vs_transformers_serve(tmp_path, gsm8k_dir,
                                                     transformers_server):
    proc, run = _compare(tmp_path, transformers_server, 4)
    summary = run / 'summary'
    with open(summary / 'backend_comparison.csv') as f:
        rows = list(csv.DictReader(f))
    assert [r['backend'] for r in rows] == ['hf', 'openai']
    assert all(float(r['infer time (s)']) > 0 for r in rows)
    assert all(float(r['out tok/s']) > 0 for r in rows)
    assert float(rows[0]['speedup']) == pytest.approx(1.0)
    # agreement, recounted from the two runs' extracted answers
    hf = _details(run, 'smollm2-135m-instruct-hf')
    api = _details(run, 'smollm2-135m-instruct-openai')
    same = sum(a['pred'] == b['pred'] for a, b in zip(hf, api))
    assert float(rows[1]['same answer %']) == pytest.approx(100 * same / 4)
    identical = sum(a['prediction'] == b['prediction'] for a, b in zip(
        _preds(run, 'smollm2-135m-instruct-hf'),
        _preds(run, 'smollm2-135m-instruct-openai')))
    assert float(rows[1]['identical text %']) == pytest.approx(100 * identical / 4)
    # disagreements are exactly the differing samples
    lines = (summary / 'backend_disagreements.jsonl').read_text().splitlines()
    listed = sorted(json.loads(l)['idx'] for l in lines)
    assert listed == [i for i in range(4) if hf[i]['pred'] != api[i]['pred']]
    png = (summary / 'backend_comparison.png').read_bytes()
    assert png[:8] == b'\x89PNG\r\n\x1a\n' and len(png) > 5000
    # the comparison table is the last thing on stdout
    last = proc.stdout.strip().splitlines()
    assert last[-1].startswith('smollm2-135m-instruct-hf') and 'openai' in last[-1]
    print('\n'.join(proc.stdout.strip().splitlines()[-6:]))
