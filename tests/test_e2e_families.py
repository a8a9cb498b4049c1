"""End to end on the embedded model: MATH-500, two BBH tasks and HumanEval through
the CLI with the shipped dataset configs, on the sample files of
conftest.family_data_root; then `-r`, which finds every prediction done and
recomputes nothing."""
import json
import os
import pathlib
import shutil

import pytest

pytestmark = pytest.mark.slow
REPO = pathlib.Path(__file__).resolve().parents[1]
CONFIGS = REPO / 'opencompass' / 'configs' / 'datasets'
EMBEDDED = 'embedded://smollm2-135m-instruct'
MODEL = 'smollm2-135m-instruct-hf'
COPIES = ['humaneval/humaneval_gen.py',
          'humaneval/humaneval_openai_sample_evals_gen_dcae0e.py',
          'math/math_prm800k_500_gen.py',
          'math/math_prm800k_500_0shot_cot_gen.py',
          'bbh/bbh_gen.py', 'bbh/bbh_gen_ee62e9.py', 'bbh/bbh_subset_settings.py']
EVAL = '''from mmengine.config import read_base

with read_base():
    from .bbh_gen import bbh_datasets
    from .humaneval_gen import humaneval_datasets
    from .math_prm800k_500_gen import math_datasets

datasets = [*math_datasets, *humaneval_datasets,
            *[d for d in bbh_datasets
              if d['abbr'] in ('bbh-date_understanding', 'bbh-boolean_expressions')]]
'''
ABBRS = ['math_prm800k_500', 'openai_humaneval', 'bbh-date_understanding',
         'bbh-boolean_expressions']


@pytest.fixture
def eval_config(tmp_path):
    for rel in COPIES:
        shutil.copy(CONFIGS / rel, tmp_path / os.path.basename(rel))
    (tmp_path / 'eval_families.py').write_text(EVAL)
    return tmp_path / 'eval_families.py'


def _run_dir(root):
    return root / sorted(os.listdir(root))[-1]


def test_math_bbh_humaneval_then_resume(cli, tmp_path, eval_config,
                                        family_data_root):
    args = [eval_config, '--hf-path', EMBEDDED, '--max-out-len', '16', '-w', 'out']
    env = {'COMPASS_DATA_CACHE': str(family_data_root)}
    proc = cli(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    run = _run_dir(tmp_path / 'out')
    results = {}
    for abbr in ABBRS:
        results[abbr] = json.loads((run / 'results' / MODEL / f'{abbr}.json')
                                   .read_text())
        assert results[abbr]['num_samples'] == 2 and results[abbr]['failed'] == 0
        assert abbr in proc.stdout
    assert 'humaneval_pass@1' in results['openai_humaneval']
    assert {d['status'] for d in results['openai_humaneval']['details']} <= {
        'ok', 'error', 'timeout'}
    assert 'score' in results['bbh-date_understanding']
    assert 'accuracy' in results['math_prm800k_500']
    preds = (run / 'predictions' / MODEL / 'bbh-date_understanding.jsonl')
    first = preds.read_text()
    prompt = json.loads(first.splitlines()[0])['origin_prompt']
    assert 'Follow the given examples' in json.dumps(prompt)
    assert 'Solve date_understanding.' in json.dumps(prompt)  # the CoT prompt

    resumed = cli(*args, '-r', env=env)
    assert resumed.returncode == 0, resumed.stderr
    assert preds.read_text() == first  # nothing predicted again
    assert _run_dir(tmp_path / 'out') == run
    assert 'all 2 predictions exist' in resumed.stderr
