"""Every dataset config of the GSM8K, MATH, BBH and HumanEval families loads,
names only types that resolve, and renders its prompts on small sample data
in the OpenCompass layout (written here, under a temporary data root)."""
import json
import pathlib

import pytest

from opencompass.registry import resolve_type
from opencompass.tasks.infer import render_prompts
from opencompass.utils.build import build_dataset
from opencompass.utils.config import _collect, load_config

REPO = pathlib.Path(__file__).resolve().parents[2]
CONFIGS = REPO / 'opencompass' / 'configs' / 'datasets'
FAMILIES = ('gsm8k', 'math', 'bbh', 'humaneval')
# Files of these folders that hold settings for other configs, not datasets.
NOT_DATASETS = {'bbh_subset_settings.py',
                'math_4shot_example_from_google_research.py'}
# The GSM8K configs of this folder that predate the family (moved here
# from configs/) are covered by tests/test_e2e.py.
MINE = sorted(p for family in FAMILIES for p in (CONFIGS / family).glob('*.py')
              if p.name not in NOT_DATASETS)


def _write_samples(root):
    data = root / 'data'
    gsm8k = data / 'gsm8k'
    gsm8k.mkdir(parents=True)
    row = {'question': 'Ann has 2 pens and buys 3 more. How many now?',
           'answer': 'She has 2+3=<<2+3=5>>5 pens.\n#### 5'}
    (gsm8k / 'test.jsonl').write_text(json.dumps(row) + '\n')
    # the few-shot configs take train rows up to 7364, as in the real file
    (gsm8k / 'train.jsonl').write_text((json.dumps(row) + '\n') * 7400)
    math = data / 'math'
    math.mkdir()
    problem = {'problem': 'What is $1+1$?', 'level': 'Level 1',
               'type': 'Prealgebra', 'solution': 'It is $\\boxed{2}$.'}
    (math / 'math.json').write_text(json.dumps({'0': problem}))
    (math / 'test_prm800k_500.json').write_text(json.dumps(
        {'0': dict(problem, answer='2')}))
    (math / 'test_prm800k_500.jsonl').write_text(json.dumps(
        dict(problem, answer='2')) + '\n')
    bbh = data / 'BBH'
    (bbh / 'data').mkdir(parents=True)
    (bbh / 'lib_prompt').mkdir()
    settings = load_config(str(CONFIGS / 'bbh' / 'bbh_subset_settings.py'))
    for name, _ in settings['settings']:
        (bbh / 'data' / f'{name}.json').write_text(json.dumps(
            {'examples': [{'input': f'A {name} question?', 'target': '(A)'}]}))
        (bbh / 'lib_prompt' / f'{name}.txt').write_text(f'Solve {name}.')
    humaneval = data / 'humaneval'
    humaneval.mkdir()
    (humaneval / 'human-eval-v2-20210705.jsonl').write_text(json.dumps(
        {'task_id': 'S/0', 'prompt': 'def one():\n', 'entry_point': 'one',
         'canonical_solution': '    return 1\n',
         'test': 'def check(f):\n    assert f() == 1\n'}) + '\n')


@pytest.fixture(scope='module')
def sample_root(tmp_path_factory):
    root = tmp_path_factory.mktemp('oc_data')
    _write_samples(root)
    return root


def _types(cfg):
    """Every `type` value in a (nested) config."""
    if isinstance(cfg, dict):
        if 'type' in cfg:
            yield cfg['type']
        for value in cfg.values():
            yield from _types(value)
    elif isinstance(cfg, (list, tuple)):
        for value in cfg:
            yield from _types(value)


def test_every_family_has_configs():
    names = {p.name for p in MINE}
    for expected in ('humaneval_gen.py', 'math_gen.py', 'math_prm800k_500_gen.py',
                     'bbh_gen.py', 'gsm8k_gen_1d7fe4.py',
                     'gsm8k_0shot_v2_gen_a58960.py'):
        assert expected in names


@pytest.mark.parametrize('path', MINE, ids=lambda p: p.name)
def test_config_loads_and_renders(path, sample_root, monkeypatch):
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(sample_root))
    datasets = _collect(load_config(str(path)), 'datasets')
    assert datasets, f'{path.name} defines no datasets'
    for type_ in _types(datasets):
        assert callable(resolve_type(type_))
    for cfg in datasets:
        ds = build_dataset(cfg)
        prompts, _ = render_prompts(cfg, ds)
        text = json.dumps(prompts)
        assert len(prompts) == len(ds.test) >= 1
        # every placeholder of the template was filled
        for column in ('{question}', '{problem}', '{input}', '{prompt}',
                       '{cot_prompt}', '{cot_answer}', '{final_answer}'):
            assert column not in text, (path.name, column)
