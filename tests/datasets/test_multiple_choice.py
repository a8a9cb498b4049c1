"""MMLU and ARC loaders, option extraction and the accuracy evaluators, on
sample files written by the tests."""
import pytest

from opencompass.datasets.arc import ARCDataset
from opencompass.datasets.mmlu import MMLUDataset
from opencompass.errors import DataPathError
from opencompass.openicl.icl_evaluator import AccwithDetailsEvaluator
from opencompass.utils.text_postprocessors import (first_capital_postprocess,
                                                   first_option_postprocess,
                                                   match_answer_pattern)

from .mc_samples import write_arc, write_mmlu

READER = dict(input_columns=['input', 'A', 'B', 'C', 'D'], output_column='target',
              train_split='dev')


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path))
    write_mmlu(tmp_path)
    write_arc(tmp_path)
    return tmp_path


def test_mmlu_reads_the_layout_by_id_and_by_folder(data_root):
    ds = MMLUDataset(path='opencompass/mmlu', name='anatomy', reader_cfg=READER)
    assert ds.test[0] == {'input': 'How many chambers does the human heart '
                          'have?', 'A': 'Two', 'B': 'Three', 'C': 'Four',
                          'D': 'Five', 'target': 'C'}
    assert len(ds.train) == 5 and ds.references() == ['C', 'B', 'D', 'A', 'C']
    by_folder = MMLUDataset(path=str(data_root / 'data' / 'mmlu'),
                            name='astronomy', reader_cfg=READER)
    assert by_folder.references() == ['B', 'C', 'A', 'B', 'C']


def test_mmlu_missing_subject_and_missing_folder(data_root, monkeypatch):
    with pytest.raises(DataPathError, match=r'anatomyy_test\.csv; nearest: '
                       r'anatomy_test\.csv'):
        MMLUDataset(path='opencompass/mmlu', name='anatomyy')
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(data_root / 'elsewhere'))
    with pytest.raises(DataPathError) as info:
        MMLUDataset(path='opencompass/mmlu', name='anatomy')
    message = str(info.value)
    assert f'looked for {data_root}/elsewhere/data/mmlu (for opencompass/mmlu)' \
        in message and 'OpenCompassData' in message and '\n' not in message


def test_arc_keeps_four_option_questions_and_maps_numeric_labels(data_root):
    ds = ARCDataset(path='opencompass/ai2_arc-dev', name='ARC-Challenge',
                    reader_cfg=dict(output_column='answerKey'))
    assert [r['id'] for r in ds.test] == ['q1', 'q2', 'q4']
    assert ds.references() == ['B', 'B', 'C']
    assert ds.test[1]['textB'] == 'sunlight'
    easy = ARCDataset(path='opencompass/ai2_arc-easy-test', name='ARC-Easy')
    assert len(easy.test) == 3


def test_arc_bad_rows_are_one_line(tmp_path):
    bad = tmp_path / 'arc.jsonl'
    bad.write_text('{"question": {"stem": "x", "choices": [{"text": "a", '
                   '"label": "A"}, {"text": "b", "label": "B"}, {"text": "c", '
                   '"label": "C"}, {"text": "d", "label": "D"}]}, '
                   '"answerKey": "E"}\n')
    with pytest.raises(DataPathError, match=r"arc\.jsonl:1: answerKey 'E'"):
        ARCDataset(path=str(bad))
    with pytest.raises(DataPathError, match='looked for .*nope.jsonl'):
        ARCDataset(path=str(tmp_path / 'nope.jsonl'))


@pytest.mark.parametrize('text, expected', [
    ('The answer is (C).', 'C'),
    ('After thinking: answer: b', 'B'),
    ('The correct option is D because ...', 'D'),
    ('答案是A', 'A'),
    ('B. Mercury is the closest', 'B'),
    ('(D) gravity', 'D'),
    ('I think A is wrong, so it must be C', 'A'),  # first standalone letter
    ('Mercury is closest.', ''),
    ('', ''),
])
def test_first_option_postprocess(text, expected):
    assert first_option_postprocess(text, options='ABCD') == expected


def test_first_option_respects_the_option_set():
    assert first_option_postprocess('E is right, then B', options='ABCD') == 'B'
    assert first_option_postprocess('Answer: E', options='ABCDE') == 'E'
    assert first_option_postprocess('no letter here', 'ABCD',
                                    cushion=False) == ''


def test_first_capital_and_answer_pattern():
    assert first_capital_postprocess('  the best is B, then A') == 'B'
    assert first_capital_postprocess('none') == ''
    pattern = r'(?i)ANSWER\s*:\s*([A-D])'
    assert match_answer_pattern('Reasoning...\nANSWER: c', pattern) == 'c'
    assert match_answer_pattern('no final line', pattern) == ''


def test_acc_with_details():
    result = AccwithDetailsEvaluator().score(['A', 'B', ''], ['A', 'C', 'D'])
    assert result['accuracy'] == pytest.approx(100 / 3)
    assert [d['correct'] for d in result['details']] == [True, False, False]
    assert 'error' in AccwithDetailsEvaluator().score(['A'], [])
