"""MATH: loading both file shapes, boxed-answer extraction, postprocessors and
answer equivalence (strings, numbers, math-verify)."""
import json

import pytest

from opencompass.datasets import (MATHDataset, MATHEvaluator, math_postprocess,
                                  math_postprocess_v2, normalize_final_answer)
from opencompass.datasets.math_answer import (extract_boxed_answer, is_equiv,
                                              last_boxed_only_string,
                                              strip_answer)
from opencompass.errors import DataPathError

READER = dict(input_columns=['problem'], output_column='solution')

# Original sample problems in MATH's shape.
ROWS = [
    {'problem': 'What is $3 \\cdot 7 - 1$?', 'level': 'Level 1',
     'type': 'Prealgebra',
     'solution': 'We have $3 \\cdot 7 = 21$, so the result is $\\boxed{20}$.'},
    {'problem': 'Simplify $\\frac{6}{8}$.', 'level': 'Level 1',
     'type': 'Prealgebra',
     'solution': 'Divide by 2: $\\boxed{\\frac{3}{4}}$.'},
    {'problem': 'Give the point $(1,2)$ moved right by 1.', 'level': 'Level 2',
     'type': 'Algebra',
     'solution': 'It is $\\boxed{\\left(2, 2\\right)}$.'},
]


@pytest.fixture
def math_dir(tmp_path):
    folder = tmp_path / 'data' / 'math'
    folder.mkdir(parents=True)
    (folder / 'math.json').write_text(json.dumps(
        {str(i): r for i, r in enumerate(ROWS)}))
    # the MATH-500 shape: one JSON row a line, with its own `answer`
    lines = [dict(r, answer=a, unique_id=f'test/{i}.json') for i, (r, a) in
             enumerate(zip(ROWS, ['20', '\\frac34', '(2,2)']))]
    (folder / 'test_prm800k_500.jsonl').write_text(
        ''.join(json.dumps(r) + '\n' for r in lines))
    return folder


def test_loads_math_json_with_boxed_answers(math_dir, monkeypatch):
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(math_dir.parents[1]))
    ds = MATHDataset(path='opencompass/math', reader_cfg=READER)
    assert ds.references() == ['20', '\\frac{3}{4}', '\\left(2, 2\\right)']
    assert ds.test[0]['level'] == 'Level 1'


def test_loads_math500_jsonl_by_file_name(math_dir):
    ds = MATHDataset(path=str(math_dir), file_name='test_prm800k_500.jsonl',
                     reader_cfg=dict(READER, test_range='[1:]'))
    assert ds.references() == ['\\frac34', '(2,2)']


def test_missing_file_and_folder(math_dir, tmp_path, monkeypatch):
    with pytest.raises(DataPathError, match='nope.json not found in'):
        MATHDataset(path=str(math_dir), file_name='nope.json', reader_cfg=READER)
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path / 'empty'))
    with pytest.raises(DataPathError) as e:
        MATHDataset(path='opencompass/math', reader_cfg=READER)
    assert str(tmp_path / 'empty' / 'data' / 'math') in str(e.value)


def test_row_without_answer_is_refused(tmp_path):
    (tmp_path / 'math.json').write_text(json.dumps(
        {'0': {'problem': 'p', 'solution': 'no box here'}}))
    with pytest.raises(DataPathError, match='row 0 has no answer'):
        MATHDataset(path=str(tmp_path), reader_cfg=READER)


@pytest.mark.parametrize('text, boxed', [
    ('so $\\boxed{5}$.', '5'),
    ('first \\boxed{1} then \\boxed{\\frac{1}{2}}', '\\frac{1}{2}'),
    ('\\boxed{\\{1, 2\\}}', '\\{1, 2\\}'),
    ('\\fbox{x}', 'x'),
    ('$\\boxed 7$', '7'),
    ('no box', None),
    ('\\boxed{unclosed', None),
])
def test_boxed_extraction(text, boxed):
    assert extract_boxed_answer(text) == boxed
    whole = last_boxed_only_string(text)
    assert (whole is None) == (boxed is None)
    if whole is not None:
        assert whole.startswith(('\\boxed', '\\fbox')) and boxed in whole


@pytest.mark.parametrize('pred, ref', [
    ('0.5', '\\frac{1}{2}'),
    ('\\dfrac{3}{4}', '\\frac34'),
    ('10\\%', '10'),
    ('5 \\text{ dollars}', '5'),
    ('x = 3', '3'),
    ('1,000', '1000'),
    ('2.50', '2.5'),
    ('90^\\circ', '90'),
    ('\\left( 3, \\frac{\\pi}{2} \\right)', '(3,\\frac{\\pi}{2})'),
    ('1/3', '\\frac{1}{3}'),
    ('.75', '0.75'),
    ('$12$.', '12'),
])
def test_equivalent_by_normalization(pred, ref):
    assert is_equiv(pred, ref, use_math_verify=False)


@pytest.mark.parametrize('pred, ref', [
    ('3', '4'), ('', '0'), ('\\frac{1}{3}', '0.33'), ('(1,2)', '(2,1)'),
])
def test_not_equivalent(pred, ref):
    assert not is_equiv(pred, ref)


@pytest.mark.parametrize('pred, ref', [
    ('\\sqrt{8}', '2\\sqrt{2}'),
    ('\\frac{\\sqrt{3}}{3}', '\\frac{1}{\\sqrt{3}}'),
    ('2x+2', '2(x+1)'),
])
def test_equivalent_by_math_verify(pred, ref):
    pytest.importorskip('math_verify')
    assert not is_equiv(pred, ref, use_math_verify=False)
    assert is_equiv(pred, ref)


def test_strip_answer_is_canonical():
    assert strip_answer('\\left(2, 2\\right)') == strip_answer('(2,2)') == '(2,2)'
    assert strip_answer('k = \\frac12') == '\\frac{1}{2}'


@pytest.mark.parametrize('text, answer', [
    ('... so $x=4$.\nFinal Answer: The final answer is $4$. I hope it is correct.',
     '4'),
    ('Final Answer: The final answer is $\\frac{2}{3}$. I hope it is correct.',
     '\\frac{2}{3}'),
    ('The answer is 12 dollars.', '12'),
    ('We get \\boxed{7}', '7'),
    ('I do not know', ''),
])
def test_math_postprocess(text, answer):
    assert math_postprocess(text) == answer


@pytest.mark.parametrize('text, answer', [
    ('Step 1 ... so the total is $\\boxed{\\frac{3}{4}}$.', '\\frac{3}{4}'),
    ('\\boxed{1} wait, no: \\boxed{2}', '2'),
    ('Thus the answer is $9$.', '9'),
    ('no answer here', ''),
])
def test_math_postprocess_v2(text, answer):
    assert math_postprocess_v2(text) == answer


def test_normalize_final_answer():
    assert normalize_final_answer('$x = 5$') == '5'
    assert normalize_final_answer('an \\text{even} number') == strip_answer(
        'even number')
    assert normalize_final_answer('7 square inches') == '7'
    assert normalize_final_answer('\\boxed{3}') == '3'


def test_evaluator_accuracy_and_raw_solutions():
    refs = ['20', '\\frac{3}{4}', '(2,2)']
    preds = ['20', '0.75', '(2,3)']
    result = MATHEvaluator(version='v2').score(preds, refs)
    assert [d['correct'] for d in result['details']] == [True, True, False]
    assert result['accuracy'] == pytest.approx(200 / 3)
    # raw outputs against raw solutions: the boxes are the answers
    raw = MATHEvaluator().score(['so \\boxed{20}'], [ROWS[0]['solution']])
    assert raw['accuracy'] == 100.0
    assert MATHEvaluator().score(['1'], []) == {
        'error': 'predictions and references have different length'}


def test_upstream_import_paths():
    from opencompass.openicl.icl_evaluator.math_evaluator import \
        MATHEvaluator as FromOpenicl
    assert FromOpenicl is MATHEvaluator
    from opencompass.evaluator import MATHVerifyEvaluator
    result = MATHVerifyEvaluator().score(['so it is \\boxed{0.5}'], ['\\frac{1}{2}'])
    assert result['accuracy'] == 100.0
