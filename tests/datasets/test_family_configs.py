"""Every dataset config of the GSM8K, MATH, BBH and HumanEval families loads,
names only types that resolve, and renders its prompts on small sample data
in the OpenCompass layout (conftest.family_data_root)."""
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
def test_config_loads_and_renders(path, family_data_root, monkeypatch):
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(family_data_root))
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
