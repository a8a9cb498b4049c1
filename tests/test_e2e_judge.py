"""The shipped (upstream-named) MATH judge configs, unchanged, on the sample
data: against scripted servers (exact numbers), then with a real judge, the
embedded model, on -a hf (behind the llama.cpp server on -a openai:
tests/api/test_judge_llama_cpp.py)."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

REPO = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(REPO / 'tests' / 'api'))
sys.path.insert(0, str(REPO / 'tests' / 'evaluator'))

from fault_server import FaultServer  # noqa: E402
from judge_fixtures import verdicts  # noqa: E402

EMBEDDED = 'embedded://smollm2-135m-instruct'
EVAL = '''from mmengine.config import read_base

with read_base():
    from opencompass.configs.datasets.math.{name} import math_datasets

datasets = math_datasets
models = [dict(type='OpenAISDK', abbr='scripted-api', path='model',
               openai_api_base={base!r}, key='EMPTY', retry=0, batch_size=2,
               max_out_len=16)]
'''


def _cli(cwd, data_root, *args, timeout=600):
    env = {**os.environ, 'PYTHONPATH': str(REPO),
           'COMPASS_DATA_CACHE': str(data_root)}
    return subprocess.run([sys.executable, str(REPO / 'run.py'),
                           *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=timeout)


def _result(tmp_path, model, abbr):
    root = tmp_path / 'w'
    run = root / sorted(os.listdir(root))[-1]
    return run, json.loads((run / 'results' / model / f'{abbr}.json')
                           .read_text())


def _model_answer(text):
    # sample 0 asks for 1+1 (gold 2): right; sample 1 for 0.5 (gold \frac12):
    # written as 1/2, which the rule cannot read as a fraction
    return 'So \\boxed{2}.' if '1+1' in text else 'It is one half, 1 over 2.'


@pytest.mark.parametrize('name, abbr, judged', [
    ('math_prm800k_500_llm_judge_gen', 'math_prm800k_500-llmjudge', 2),
    ('math_500_cascade_eval_gen_6ff468', 'math_prm800k_500', 1)])
def test_upstream_math_judge_configs_run_unchanged(tmp_path, family_data_root,
                                                   name, abbr, judged):
    with FaultServer('vllm', models=('model', ), answer=_model_answer) as m, \
            FaultServer('vllm', models=('judge', ),
                        answer=verdicts({}, default='A')) as j:
        (tmp_path / 'eval.py').write_text(EVAL.format(name=name,
                                                      base=m.base_url))
        proc = _cli(tmp_path, family_data_root, 'eval.py', '-w', 'w',
                    '--judge-api-base', j.base_url)
        assert proc.returncode == 0, proc.stderr[-3000:]
        asked = [r['text'] for r in j.requests]
    assert len(asked) == judged  # the cascade judges only what the rule fails
    assert 'It is one half' in asked[-1] and '\\frac12' in asked[-1]
    assert 'Your grade (A or B)' in asked[-1]
    _, result = _result(tmp_path, 'scripted-api', abbr)
    assert result['accuracy'] == 100.0 and result['judged'] == judged
    assert abbr in proc.stdout


def _check_real_judge(result, n=2):
    """A real judge's verdicts, whatever they are, add up."""
    details = result['details']
    assert result['judged'] == n and result['failed'] == 0
    said_a = sum(d['verdict'] == 'A' for d in details)
    assert result['accuracy'] == pytest.approx(100 * said_a / n)
    assert result['unparsed'] == sum(d['verdict'] is None for d in details)
    assert all(d['judge_prompt'] and 'judge_response' in d for d in details)


@pytest.mark.slow
def test_embedded_model_judges_on_hf_and_resume_asks_nothing(
        tmp_path, family_data_root):
    args = ['--hf-path', EMBEDDED, '--datasets', 'math_prm800k_500_llm_judge_gen',
            '--max-out-len', '16', '--judge-hf-path', EMBEDDED,
            '--judge-max-out-len', '4', '-w', 'w']
    proc = _cli(tmp_path, family_data_root, *args)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run, result = _result(tmp_path, 'smollm2-135m-instruct-hf',
                          'math_prm800k_500-llmjudge')
    _check_real_judge(result)
    log = run / 'judge' / 'smollm2-135m-instruct-hf' / \
        'math_prm800k_500-llmjudge.jsonl'
    first = log.read_text()
    assert 'unparsed' in proc.stdout
    again = _cli(tmp_path, family_data_root, *args, '-r')
    assert again.returncode == 0, again.stderr[-3000:]
    assert log.read_text() == first and 'all 2 verdicts exist' in again.stderr
    assert 'building the judge' not in again.stderr  # never even loaded
