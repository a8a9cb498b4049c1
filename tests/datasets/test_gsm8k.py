"""GSM8K loading, answer extraction and scoring; the demo set that ships with us."""
import json
import re
import subprocess
import sys
from pathlib import Path

import pytest

from opencompass.datasets import (DemoMathDataset, GSM8KDataset, Gsm8kEvaluator,
                                  gsm8k_dataset_postprocess, gsm8k_postprocess)
from opencompass.datasets.gsm8k import gsm8k_cot_answer
from opencompass.errors import DataPathError
from opencompass.openicl.icl_evaluator import AccEvaluator, BaseEvaluator

GSM8K_DIR = Path(__file__).resolve().parents[2] / '..' / 'shared' / 'data' / 'gsm8k'
READER = dict(input_columns=['question'], output_column='answer')
NUMERIC = re.compile(r'-?\d+(\.\d+)?')

needs_gsm8k = pytest.mark.skipif(
    not (GSM8K_DIR / 'test.jsonl').is_file(),
    reason=f'GSM8K not found at {GSM8K_DIR} (sibling shared/ folder of the repo)')


@pytest.mark.parametrize('text, expected', [
    # '####' wins over everything else
    ('She has 3 + 4 = 7 left.\n#### 7', '7'),
    ('#### 1,000', '1000'),
    ('The answer is 5.\n#### 6', '6'),
    ('####-3', '-3'),
    ('#### $18', '18'),
    # 'The answer is', any case, number may come a few words later
    ('So 2 + 2 = 4. The answer is 4.', '4'),
    ('THE ANSWER IS 12', '12'),
    ('the answer is: $1,234.50.', '1234.5'),
    ('The answer is 42 apples, not 40.', '42'),
    ('The answer is -0.5 degrees', '-0.5'),
    # \boxed{}
    ('we get \\boxed{24} in the end, 25 total', '24'),
    ('\\boxed{\\$1,200}', '1200'),
    ('\\boxed{} then 9', '9'),
    # last number
    ('First 3, then 5, finally 8 cookies', '8'),
    ('It costs $1,234.50 in total', '1234.5'),
    ('So the total is 3.', '3'),
    ('a half is .5', '0.5'),
    ('it fell to -3 degrees', '-3'),
    ('-0.5', '-0.5'),
    ('she walked 5km', '5'),
    ('that is 25%', '25'),
    ('10-3=7', '7'),
    ('He had 10 and lost 8 - 3', '3'),  # '- 3' is subtraction, not a sign
    ('list: 1,2,3', '3'),               # not one number 123
    ('-$5 owed', '-5'),
    # normalization: integers written as decimals compare equal
    ('72.00', '72'),
    ('5.0', '5'),
    ('2.50', '2.5'),
    ('-0.0', '0'),
    ('1,000,000.00', '1000000'),
    # no number at all
    ('I do not know.', ''),
    ('', ''),
    (None, ''),
    # a base model going on with a made-up next question is ignored
    ('3 + 4 = 7\n#### 7\n\nQuestion: Tom has 9 apples... #### 9', '7'),
    ('The answer is 11.\nQuestion: what is 2+3?', '11'),
])
def test_gsm8k_postprocess(text, expected):
    assert gsm8k_postprocess(text) == expected


@pytest.mark.parametrize('text, expected', [
    ('Janet sells 16 - 3 - 4 = <<16-3-4=9>>9 eggs.\n#### 18', '18'),
    ('#### 1,234', '1234'),
    ('x\n####  -7 ', '-7'),
    ('#### 72.00', '72'),
    ('#### 2.5', '2.5'),
    ('#### $5', '5'),
])
def test_gsm8k_dataset_postprocess(text, expected):
    assert gsm8k_dataset_postprocess(text) == expected


def test_evaluator_scores_and_details():
    ev = Gsm8kEvaluator()
    assert isinstance(ev, BaseEvaluator)
    out = ev.score(['7', '72.00', '3', '', '1e3'], ['7', '72', '4', '5', '1000'])
    assert out['accuracy'] == pytest.approx(60.0)
    assert [d['correct'] for d in out['details']] == [True, True, False, False, True]
    assert out['details'][2] == {'pred': '3', 'answer': '4', 'correct': False}


def test_evaluator_all_correct_string_fallback_and_tolerance():
    out = Gsm8kEvaluator().score(['abc', '0.1000000001'], ['abc', '0.1'])
    assert out['accuracy'] == 100.0
    assert all(d['correct'] for d in out['details'])


def test_evaluator_length_mismatch_and_empty():
    assert Gsm8kEvaluator().score(['1'], ['1', '2']) == {
        'error': 'predictions and references have different length'}
    assert Gsm8kEvaluator().score([], []) == {'accuracy': 0.0, 'details': []}


def test_acc_evaluator_exact_match_after_strip():
    out = AccEvaluator().score([' A', 'B', 1], ['A\n', 'C', '1'])
    assert out['accuracy'] == pytest.approx(200 / 3)
    assert [d['correct'] for d in out['details']] == [True, False, True]
    assert AccEvaluator().score(['A'], []) == {
        'error': 'predictions and references have different length'}
    assert AccEvaluator().score([], []) == {'accuracy': 0.0, 'details': []}


@needs_gsm8k
def test_real_gsm8k_loads_in_place_with_test_range():
    ds = GSM8KDataset(path=str(GSM8K_DIR), abbr='gsm8k',
                      reader_cfg=dict(READER, test_range='[0:50]'))
    assert len(ds.test) == 50
    assert len(ds.train) > 7000
    assert ds.test[0]['question'].startswith('Janet')
    assert ds.references()[0].endswith('#### 18')


@needs_gsm8k
def test_real_gsm8k_references_are_all_numeric():
    ds = GSM8KDataset(path=str(GSM8K_DIR), reader_cfg=READER)
    refs = [gsm8k_dataset_postprocess(r) for r in ds.references()]
    assert len(refs) == 1319
    assert all(NUMERIC.fullmatch(r) for r in refs), [r for r in refs
                                                      if not NUMERIC.fullmatch(r)]
    # a gold solution, read as a model prediction, scores 100%
    preds = [gsm8k_postprocess(r) for r in ds.references()]
    assert Gsm8kEvaluator().score(preds, refs)['accuracy'] == 100.0


def test_missing_folder_raises_data_path_error(tmp_path):
    missing = tmp_path / 'nowhere'
    with pytest.raises(DataPathError, match='does not exist') as e:
        GSM8KDataset(path=str(missing), reader_cfg=READER)
    assert str(missing) in str(e.value) and 'path=' in str(e.value)


def test_folder_without_test_jsonl_raises(tmp_path):
    with pytest.raises(DataPathError, match='test.jsonl') as e:
        GSM8KDataset(path=str(tmp_path), reader_cfg=READER)
    assert str(tmp_path) in str(e.value) and '\n' not in str(e.value)


def test_no_path_raises():
    with pytest.raises(DataPathError, match='path='):
        GSM8KDataset(path=None, reader_cfg=READER)


def test_malformed_line_names_file_and_line(tmp_path):
    good = json.dumps({'question': 'q', 'answer': '#### 1'})
    (tmp_path / 'test.jsonl').write_text(f'{good}\n\n{{"question": oops\n')
    with pytest.raises(DataPathError, match=r'test\.jsonl:3 is not valid JSON'):
        GSM8KDataset(path=str(tmp_path), reader_cfg=READER)


def test_line_without_keys_is_refused(tmp_path):
    (tmp_path / 'test.jsonl').write_text('{"q": 1}\n')
    with pytest.raises(DataPathError, match=r"test\.jsonl:1 lacks 'question'"):
        GSM8KDataset(path=str(tmp_path), reader_cfg=READER)


def test_small_folder_without_train(tmp_path):
    rows = [{'question': f'q{i}', 'answer': f'#### {i}'} for i in range(3)]
    (tmp_path / 'test.jsonl').write_text(''.join(json.dumps(r) + '\n' for r in rows))
    ds = GSM8KDataset(path=str(tmp_path), reader_cfg=dict(READER, test_range='[1:]'))
    assert [{'question': r['question'], 'answer': r['answer']}
            for r in ds.test] == rows[1:] and ds.train == []
    assert ds.test[0]['cot_answer'] == 'The answer is 1'


def test_hub_id_without_datasets_package_says_what_to_do(monkeypatch):
    monkeypatch.setitem(sys.modules, 'datasets', None)  # import fails, no network
    with pytest.raises(DataPathError, match="'datasets' package") as e:
        GSM8KDataset(path='openai/gsm8k', reader_cfg=READER)
    assert 'point path= at the folder' in str(e.value)


def test_cot_answer_is_the_solution_as_few_shot_prompts_show_it():
    answer = 'He pays 3*2=<<3*2=6>>6 dollars.\n#### 6'
    assert gsm8k_cot_answer(answer) == 'He pays 3*2=6 dollars.\nThe answer is 6'


def test_opencompass_id_without_local_data_is_one_line(tmp_path, monkeypatch):
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path))
    with pytest.raises(DataPathError) as e:
        GSM8KDataset(path='opencompass/gsm8k', reader_cfg=READER)
    assert str(tmp_path / 'data' / 'gsm8k') in str(e.value)
    assert 'COMPASS_DATA_CACHE' in str(e.value) and '\n' not in str(e.value)


def test_opencompass_id_uses_local_data_folder(tmp_path, monkeypatch):
    (tmp_path / 'data' / 'gsm8k').mkdir(parents=True)
    (tmp_path / 'data' / 'gsm8k' / 'test.jsonl').write_text(
        json.dumps({'question': 'q', 'answer': '#### 4'}) + '\n')
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path))
    ds = GSM8KDataset(path='opencompass/gsm8k', reader_cfg=READER)
    assert ds.references() == ['#### 4']


@pytest.mark.parametrize('path', [None, 'demo_math'])
def test_demo_dataset_is_packaged_and_consistent(path):
    ds = DemoMathDataset(path=path, reader_cfg=READER)
    assert len(ds.test) >= 40 and len(ds.train) >= 8
    questions = [r['question'] for r in ds.test]
    assert len(set(questions)) == len(questions)
    assert not set(questions) & {r['question'] for r in ds.train}
    for row in ds.test + ds.train:
        ref = gsm8k_dataset_postprocess(row['answer'])
        assert NUMERIC.fullmatch(ref), row
        # every 'a op b = c' step is right, and the last one is the answer
        steps = re.findall(r'(\d+) ([-+*]) (\d+) = (\d+)', row['answer'])
        assert steps, row
        for a, op, b, c in steps:
            assert eval(f'{a}{op}{b}') == int(c), row
        assert steps[-1][3] == ref, row


def test_demo_dataset_can_take_another_path(tmp_path):
    (tmp_path / 'test.jsonl').write_text(
        json.dumps({'question': 'q', 'answer': '#### 4'}) + '\n')
    assert len(DemoMathDataset(path=str(tmp_path), reader_cfg=READER).test) == 1


def test_importing_datasets_package_is_light():
    code = ('import sys, opencompass.datasets as d; d.GSM8KDataset; '
            'd.gsm8k_postprocess; d.Gsm8kEvaluator; d.DemoMathDataset; '
            "print(sorted(m for m in ('torch', 'transformers', 'datasets') "
            'if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == '[]'


def test_unknown_attribute():
    import opencompass.datasets as d
    assert 'GSM8KDataset' in dir(d) and 'BaseDataset' in dir(d)
    with pytest.raises(AttributeError):
        d.NoSuchDataset  # noqa: B018
