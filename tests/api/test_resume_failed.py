"""Through the CLI: failed API samples are recorded and counted in the summary's
`failed` column, the run goes on, and `-r` retries exactly the failed ones."""
import json
import os
import pathlib
import subprocess
import sys

from fault_server import FaultServer

REPO = pathlib.Path(__file__).resolve().parents[2]

CONFIG = '''
from mmengine.config import read_base
with read_base():
    from opencompass.configs.datasets.demo_math.demo_math_gen import demo_math_datasets
datasets = demo_math_datasets
models = [dict(type='OpenAISDK', abbr='fake-api', path='fake-model',
               openai_api_base={base!r}, key='sk-test-secret-123456', mode='chat',
               retry=1, timeout=10, batch_size=4, max_out_len=16)]
'''


def _cli(cwd, *args):
    env = {**os.environ, 'PYTHONPATH': str(REPO)}
    return subprocess.run([sys.executable, str(REPO / 'run.py'), *args], cwd=cwd,
                          env=env, capture_output=True, text=True, timeout=300)


def _predictions(tmp_path):
    run = tmp_path / 'w' / sorted(os.listdir(tmp_path / 'w'))[-1]
    path = run / 'predictions' / 'fake-api' / 'demo-math.jsonl'
    return run, [json.loads(line) for line in path.read_text().splitlines()]


def test_failed_samples_are_counted_then_retried_by_resume(tmp_path, repo_root):
    (tmp_path / 'configs').symlink_to(repo_root / 'configs')
    with FaultServer('vllm', models=('fake-model',)) as srv:
        (tmp_path / 'cfg.py').write_text(CONFIG.format(base=srv.base_url))
        srv.script('Sara had 10 pencils', '500', '500')  # fails twice: retry=1
        srv.script('A box holds 6 eggs', '400')  # not retried
        first = _cli(tmp_path, 'cfg.py', '--test-range', '[0:6]', '-w', 'w')
        assert first.returncode == 3, first.stderr  # summary written, 2 failed
        assert '2 of 6 samples failed' in first.stderr
        run, preds = _predictions(tmp_path)
        assert [p['idx'] for p in preds] == list(range(6))  # none lost
        failed = sorted(p['idx'] for p in preds if p.get('error'))
        assert failed == [1, 2]
        assert 'failed' in first.stdout and 'fake-api: 2' in first.stdout
        result = json.loads((run / 'results' / 'fake-api' / 'demo-math.json')
                            .read_text())
        assert result['failed'] == 2
        before = len(srv.requests)
        resumed = _cli(tmp_path, 'cfg.py', '--test-range', '[0:6]', '-w', 'w',
                       '-r')
        assert resumed.returncode == 0, resumed.stderr
        retried = [r['text'] for r in srv.requests[before:]
                   if r['path'].endswith('/completions')]
        assert len(retried) == 2
        assert any('Sara had 10 pencils' in t for t in retried)
        assert any('A box holds 6 eggs' in t for t in retried)
        _, preds = _predictions(tmp_path)
        assert not [p for p in preds if p.get('error')]
        assert 'failed' not in resumed.stdout.split('outputs:')[0]
    dumped = (run / 'configs' / f'{run.name}.py').read_text()
    assert 'sk-test-secret-123456' not in dumped and '***' in dumped
    assert 'sk-test-secret-123456' not in (run / 'logs' / 'run.log').read_text()
