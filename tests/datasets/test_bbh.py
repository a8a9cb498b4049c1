"""BBH: task files and CoT prompts, answer extraction for both kinds of task,
the evaluators, the 27-task config and the `bbh` summary group."""
import json
import pathlib

import pytest

from opencompass.datasets import (BBHDataset, BBHEvaluator, BBHEvaluator_mcq,
                                  bbh_freeform_postprocess, bbh_mcq_postprocess)
from opencompass.errors import DataPathError
from opencompass.registry import type_name
from opencompass.utils.config import _collect, load_config

REPO = pathlib.Path(__file__).resolve().parents[2]
BBH_CONFIGS = REPO / 'opencompass' / 'configs' / 'datasets' / 'bbh'
READER = dict(input_columns=['cot_prompt', 'input'], output_column='target')

# Original sample rows in BBH's shape.
MCQ = [{'input': 'Which is heavier?\nOptions:\n(A) a feather\n(B) a brick',
        'target': '(B)'},
       {'input': 'Which is a fruit?\nOptions:\n(A) apple\n(B) chair\n(C) rock',
        'target': '(A)'}]
FREE = [{'input': 'not ( True and False ) is', 'target': 'True'},
        {'input': 'False or not True is', 'target': 'False'}]
PROMPT = ('Decide the value of a Boolean expression.\n\nQ: not False is\n'
          "A: Let's think step by step.\nnot False = True. So the answer is True.")


def write_bbh(root, with_prompts=True):
    """BBH's layout under root: data/{task}.json and lib_prompt/{task}.txt."""
    data = root / 'data' / 'BBH' / 'data'
    data.mkdir(parents=True)
    for name, rows in (('weights_mcq', MCQ), ('boolean_expressions', FREE)):
        (data / f'{name}.json').write_text(json.dumps(
            {'canary': 'sample', 'examples': rows}))
        if with_prompts:
            (data.parent / 'lib_prompt').mkdir(exist_ok=True)
            (data.parent / 'lib_prompt' / f'{name}.txt').write_text(PROMPT)
    return data


def test_loads_task_and_prompt_by_id(tmp_path, monkeypatch):
    write_bbh(tmp_path)
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path))
    ds = BBHDataset(path='opencompass/bbh', name='boolean_expressions',
                    reader_cfg=READER)
    assert [r['input'] for r in ds.test] == [r['input'] for r in FREE]
    assert ds.references() == ['True', 'False']
    assert ds.test[0]['cot_prompt'] == PROMPT


def test_missing_prompt_and_task_are_one_line(tmp_path):
    data = write_bbh(tmp_path, with_prompts=False)
    with pytest.raises(DataPathError, match='lib_prompt') as e:
        BBHDataset(path=str(data), name='weights_mcq', reader_cfg=READER)
    assert '\n' not in str(e.value)
    # without the CoT column in the template, no prompt file is needed
    ds = BBHDataset(path=str(data), name='weights_mcq',
                    reader_cfg=dict(READER, input_columns=['input']))
    assert len(ds.test) == 2
    with pytest.raises(DataPathError, match='nope.json not found'):
        BBHDataset(path=str(data), name='nope', reader_cfg=READER)
    with pytest.raises(DataPathError, match='name='):
        BBHDataset(path=str(data), reader_cfg=READER)


@pytest.mark.parametrize('text, letter', [
    ('(B)', 'B'),
    ('The brick weighs more. So the answer is (B).', 'B'),
    ('So the answer is (C).\n\nQ: next question ... So the answer is (A).', 'C'),
    ('answer is: A', 'A'),
    ('I think (D) fits', 'D'),
    ('no idea', 'no idea'),
])
def test_mcq_postprocess(text, letter):
    assert bbh_mcq_postprocess(text) == letter


@pytest.mark.parametrize('text, answer', [
    ('not False = True. So the answer is True.', 'True'),
    ('So the answer is **24**.', '24'),
    ('So the answer is ) ] }.\nQ: more', ') ] }'),
    ('False', 'False'),
])
def test_freeform_postprocess(text, answer):
    assert bbh_freeform_postprocess(text) == answer


def test_evaluators():
    free = BBHEvaluator().score(['So the answer is True.', 'True and more'],
                                ['True', 'False'])
    assert free['score'] == 50.0
    assert [d['pred'] for d in free['details']] == ['True', 'True and more']
    refs = [bbh_mcq_postprocess(r['target']) for r in MCQ]
    mcq = BBHEvaluator_mcq().score(['B', 'B'], refs)
    assert refs == ['B', 'A'] and mcq['score'] == 50.0


def test_config_covers_27_tasks_with_the_right_scorer():
    datasets = _collect(load_config(str(BBH_CONFIGS / 'bbh_gen.py')), 'datasets')
    assert len(datasets) == 27
    by_abbr = {d['abbr']: d for d in datasets}
    mcq = by_abbr['bbh-date_understanding']['eval_cfg']
    free = by_abbr['bbh-word_sorting']['eval_cfg']
    assert type_name(mcq['evaluator']['type']) == 'BBHEvaluator_mcq'
    assert type_name(mcq['pred_postprocessor']['type']) == 'bbh_mcq_postprocess'
    assert type_name(free['evaluator']['type']) == 'BBHEvaluator'
    groups = load_config(str(REPO / 'opencompass' / 'configs' / 'summarizers' /
                             'groups' / 'bbh.py'))['bbh_summary_groups']
    assert groups[0]['name'] == 'bbh'
    assert sorted(groups[0]['subsets']) == sorted(by_abbr)
