"""Shared fixtures: the repo root, the real GSM8K in ../shared/data (read in place),
and a runner for the CLI in a subprocess."""
import os
import pathlib
import json
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


# The 27 BBH tasks (as in opencompass/configs/datasets/bbh/bbh_subset_settings.py).
BBH_TASKS = [
    'temporal_sequences', 'disambiguation_qa', 'date_understanding',
    'tracking_shuffled_objects_three_objects', 'penguins_in_a_table',
    'geometric_shapes', 'snarks', 'ruin_names',
    'tracking_shuffled_objects_seven_objects',
    'tracking_shuffled_objects_five_objects', 'logical_deduction_three_objects',
    'hyperbaton', 'logical_deduction_five_objects',
    'logical_deduction_seven_objects', 'movie_recommendation',
    'salient_translation_error_detection', 'reasoning_about_colored_objects',
    'multistep_arithmetic_two', 'navigate', 'dyck_languages', 'word_sorting',
    'sports_understanding', 'boolean_expressions', 'object_counting',
    'formal_fallacies', 'causal_judgement', 'web_of_lies']


def write_family_samples(root):
    """Two original samples each of GSM8K, MATH, BBH (every task) and HumanEval
    in the OpenCompass data layout under root/data."""
    data = root / 'data'
    gsm8k = data / 'gsm8k'
    gsm8k.mkdir(parents=True)
    rows = [{'question': 'Ann has 2 pens and buys 3 more. How many now?',
             'answer': 'She has 2+3=<<2+3=5>>5 pens.\n#### 5'},
            {'question': 'A box holds 4 rows of 6 eggs. How many eggs?',
             'answer': 'It holds 4*6=<<4*6=24>>24 eggs.\n#### 24'}]
    _jsonl(gsm8k / 'test.jsonl', rows)
    _jsonl(gsm8k / 'train.jsonl', rows * 3700)  # few-shot ids go up to 7364
    math = data / 'math'
    math.mkdir()
    problems = [{'problem': 'What is $1+1$?', 'level': 'Level 1',
                 'type': 'Prealgebra', 'solution': 'It is $\\boxed{2}$.'},
                {'problem': 'Write $0.5$ as a fraction.', 'level': 'Level 1',
                 'type': 'Prealgebra', 'solution': '$\\boxed{\\frac{1}{2}}$'}]
    (math / 'math.json').write_text(json.dumps(dict(enumerate(problems))))
    answered = [dict(p, answer=a) for p, a in zip(problems, ['2', '\\frac12'])]
    (math / 'test_prm800k_500.json').write_text(json.dumps(
        dict(enumerate(answered))))
    _jsonl(math / 'test_prm800k_500.jsonl', answered)
    bbh = data / 'BBH'
    (bbh / 'data').mkdir(parents=True)
    (bbh / 'lib_prompt').mkdir()
    for name in BBH_TASKS:
        (bbh / 'data' / f'{name}.json').write_text(json.dumps({'examples': [
            {'input': f'First {name} question?\nOptions:\n(A) yes\n(B) no',
             'target': '(A)'},
            {'input': f'Second {name} question?', 'target': 'True'}]}))
        (bbh / 'lib_prompt' / f'{name}.txt').write_text(
            f'Solve {name}.\n\nQ: Is 1 < 2?\nA: Let\'s think step by step.\n'
            '1 is less than 2. So the answer is True.')
    humaneval = data / 'humaneval'
    humaneval.mkdir()
    _jsonl(humaneval / 'human-eval-v2-20210705.jsonl', [
        {'task_id': 'Sample/0', 'prompt': 'def one():\n    """Return 1."""\n',
         'entry_point': 'one', 'canonical_solution': '    return 1\n',
         'test': 'def check(f):\n    assert f() == 1\n'},
        {'task_id': 'Sample/1',
         'prompt': 'def add(a, b):\n    """Return a + b."""\n',
         'entry_point': 'add', 'canonical_solution': '    return a + b\n',
         'test': 'def check(f):\n    assert f(2, 3) == 5\n'}])


def _jsonl(path, rows):
    path.write_text(''.join(json.dumps(r) + '\n' for r in rows))


@pytest.fixture(scope='session')
def family_data_root(tmp_path_factory):
    """A data root ($COMPASS_DATA_CACHE) with small GSM8K, MATH, BBH and
    HumanEval sample files in the OpenCompass layout."""
    root = tmp_path_factory.mktemp('oc_data')
    write_family_samples(root)
    return root
