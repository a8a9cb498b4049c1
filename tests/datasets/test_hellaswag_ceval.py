"""HellaSwag and C-Eval loaders on sample files written by the tests (neither
dataset is in the shared data folder)."""
import json

import pytest

from opencompass.datasets.ceval import CEvalDataset
from opencompass.datasets.hellaswag import (HellaswagDataset,
                                            HellaswagDataset_V2,
                                            HellaswagDataset_V3,
                                            HellaswagDatasetwithICE,
                                            hellaswagDataset_V2)
from opencompass.errors import DataPathError

from .mc_samples import write_ceval, write_hellaswag


@pytest.fixture
def data_root(tmp_path, monkeypatch):
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path))
    write_hellaswag(tmp_path)
    write_ceval(tmp_path)
    return tmp_path


def test_hellaswag_variants(data_root):
    v1 = HellaswagDataset(path='opencompass/hellaswag',
                          reader_cfg=dict(output_column='label'))
    assert v1.test[0]['ctx'] == 'A man fills a kettle with water. He'
    assert v1.references() == [0, 1, 2]
    v2 = HellaswagDataset_V2(path='opencompass/hellaswag',
                             reader_cfg=dict(output_column='label'))
    assert v2.references() == ['A', 'B', 'C'] and v2.test[2]['C'].startswith(
        'scrubs')
    assert hellaswagDataset_V2 is HellaswagDataset_V2
    v3 = HellaswagDataset_V3(path='opencompass/hellaswag')
    assert v3.test[1]['query'].startswith('Riding a bike: ')
    assert v3.test[1]['gold'] == 1
    ice = HellaswagDatasetwithICE(
        path='opencompass/hellaswag_ice',
        reader_cfg=dict(output_column='label', train_split='train',
                        test_split='val'))
    assert len(ice.train) == 12 and ice.references() == ['A', 'B', 'C']


def test_hellaswag_original_release_format(tmp_path):
    file = tmp_path / 'val.jsonl'
    file.write_text(json.dumps({'activity_label': 'Cooking', 'ctx': 'He stirs',
                                'endings': ['a', 'b', 'c', 'd'],
                                'label': '3'}) + '\n')
    ds = HellaswagDataset_V3(path=str(file))
    assert ds.test == [{'query': 'Cooking: He stirs', 'A': 'a', 'B': 'b',
                        'C': 'c', 'D': 'd', 'gold': 3}]


def test_hellaswag_errors(tmp_path, monkeypatch):
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path))
    with pytest.raises(DataPathError, match=r'looked for .*hellaswag/'
                       r'hellaswag\.jsonl \(for opencompass/hellaswag\)'):
        HellaswagDataset(path='opencompass/hellaswag')
    bad = tmp_path / 'bad.jsonl'
    bad.write_text('{"query": "x: y", "choices": ["a", "b"], "gold": 0}\n')
    with pytest.raises(DataPathError, match=r'bad\.jsonl:1: expected 4 '
                       'endings'):
        HellaswagDataset(path=str(bad))


def test_ceval_splits(data_root):
    reader = dict(input_columns=['question', 'A', 'B', 'C', 'D'],
                  output_column='answer', train_split='dev', test_split='val')
    ds = CEvalDataset(path='opencompass/ceval-exam', name='computer_network',
                      reader_cfg=reader)
    assert len(ds.train) == 5 and ds.references() == ['C', 'B', 'A']
    assert ds.train[0]['explanation'] == '因为如此。'
    test = CEvalDataset(path='opencompass/ceval-exam', name='logic',
                        reader_cfg=dict(reader, test_split='test'))
    assert test.references() == ['', '']  # no public test answers


def test_ceval_missing_subject(data_root):
    with pytest.raises(DataPathError, match=r'logik_val\.csv; nearest: '
                       r'logic_val\.csv'):
        CEvalDataset(path='opencompass/ceval-exam', name='logik')
