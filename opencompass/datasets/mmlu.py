"""MMLU (Hendrycks et al.): 57 subjects of four-option questions.

Layout (OpenCompass's data archive, 'opencompass/mmlu' = <data root>/data/mmlu):
`{dev,val,test}/{subject}_{split}.csv`, headerless CSV rows of
question, A, B, C, D, answer letter. Rows become
`{'input', 'A', 'B', 'C', 'D', 'target'}`; the 5 dev rows per subject are the
few-shot examples (`train_split='dev'` in the configs).
"""
import csv
import os

from opencompass.datasets import data_path
from opencompass.datasets.base import BaseDataset
from opencompass.errors import DataPathError

COLUMNS = ('input', 'A', 'B', 'C', 'D', 'target')
SPLITS = ('dev', 'val', 'test')


def read_rows(file, columns=COLUMNS):
    """Headerless CSV rows as dicts; a row of the wrong width is a data error."""
    rows = []
    with open(file, encoding='utf-8', newline='') as f:
        for lineno, row in enumerate(csv.reader(f), 1):
            if not row:
                continue
            if len(row) != len(columns):
                raise DataPathError(
                    f'{file}:{lineno} has {len(row)} fields, expected '
                    f'{len(columns)} ({", ".join(columns)}); fix that row')
            rows.append(dict(zip(columns, (v.strip() for v in row))))
    return rows


class MMLUDataset(BaseDataset):
    """One MMLU subject (`name=`), with its dev/val/test splits."""

    @staticmethod
    def load(path, name=None, **kwargs):
        root = data_path.resolve(path, 'MMLU', kind='dir')
        if not name:
            raise DataPathError('MMLUDataset needs name=: the subject, e.g. '
                                "'anatomy'")
        splits = {}
        for split in SPLITS:
            file = os.path.join(root, split, f'{name}_{split}.csv')
            if os.path.isfile(file):
                splits[split] = read_rows(file)
        if 'test' not in splits:
            folder = os.path.join(root, 'test')
            known = os.listdir(folder) if os.path.isdir(folder) else []
            raise data_path.missing_file(
                os.path.join(folder, f'{name}_test.csv'), f'MMLU {name}', known)
        return splits
