"""C-Eval: Chinese exam questions in 52 subjects, four options.

Layout of OpenCompass's data archive: 'opencompass/ceval-exam' =
<data root>/data/ceval/formal_ceval, with `{dev,val,test}/{subject}_{split}.csv`
(a header row: id, question, A, B, C, D, answer[, explanation]). The test split
has no answers (C-Eval scores it on its own server); configs score `val` and
take their five examples from `dev`.
"""
import csv
import os

from opencompass.datasets import data_path
from opencompass.datasets.base import BaseDataset
from opencompass.errors import DataPathError

SPLITS = ('dev', 'val', 'test')
REQUIRED = ('question', 'A', 'B', 'C', 'D')


def read_split(file):
    with open(file, encoding='utf-8', newline='') as f:
        reader = csv.DictReader(f)
        missing = [c for c in REQUIRED if c not in (reader.fieldnames or [])]
        if missing:
            raise DataPathError(f'{file} lacks the column(s) {missing}; its '
                                'header must name id, question, A, B, C, D, '
                                'answer')
        rows = []
        for row in reader:
            row = {k: (v or '').strip() for k, v in row.items() if k}
            row.setdefault('answer', '')
            rows.append(row)
    return rows


class CEvalDataset(BaseDataset):
    """One C-Eval subject (`name=`), with its dev/val/test splits."""

    @staticmethod
    def load(path, name=None, **kwargs):
        root = data_path.resolve(path, 'C-Eval', kind='dir')
        if not name:
            raise DataPathError("CEvalDataset needs name=: the subject, e.g. "
                                "'computer_network'")
        splits = {}
        for split in SPLITS:
            file = os.path.join(root, split, f'{name}_{split}.csv')
            if os.path.isfile(file):
                splits[split] = read_split(file)
        if 'val' not in splits and 'test' not in splits:
            folder = os.path.join(root, 'val')
            known = os.listdir(folder) if os.path.isdir(folder) else []
            raise data_path.missing_file(
                os.path.join(folder, f'{name}_val.csv'), f'C-Eval {name}', known)
        return splits
