"""HellaSwag: pick the ending that best continues an everyday scene.

Layout of OpenCompass's data archive: 'opencompass/hellaswag' =
<data root>/data/hellaswag/hellaswag.jsonl (validation), and for the few-shot
configs 'opencompass/hellaswag_ice' = that folder, also holding
hellaswag_train_sampled25.jsonl. A line is `{"query": "<activity>: <context>",
"choices": [4 endings], "gold": <index>}`; the original release's
`{"ctx", "endings", "label"}` lines are read too.

The classes differ only in the columns upstream configs expect:
HellaswagDataset (ctx, A-D, label as index: perplexity templates keyed 0-3),
HellaswagDataset_V2 and HellaswagDatasetwithICE (label as letter: generation),
HellaswagDataset_V3 (query, A-D, gold index).
"""
import os

from opencompass.datasets import data_path
from opencompass.datasets.base import BaseDataset
from opencompass.errors import DataPathError

LETTERS = 'ABCD'
TRAIN_FILE = 'hellaswag_train_sampled25.jsonl'
VAL_FILE = 'hellaswag.jsonl'


def _item(raw, file, lineno):
    """(query, context without the activity label, 4 endings, gold index)."""
    try:
        if 'query' in raw:
            query, choices, gold = raw['query'], raw['choices'], raw['gold']
            context = query.split(': ', 1)[-1]
        else:
            choices, gold = raw['endings'], raw['label']
            context = raw['ctx']
            query = f"{raw.get('activity_label', '')}: {context}".lstrip(': ')
        gold = int(gold)
    except (KeyError, TypeError, ValueError):
        raise DataPathError(f'{file}:{lineno} is not a HellaSwag item (needs '
                            'query, choices, gold)') from None
    if len(choices) != 4 or not 0 <= gold < 4:
        raise DataPathError(f'{file}:{lineno}: expected 4 endings and a gold '
                            f'index 0-3, got {len(choices)} and {gold}')
    return query, context, list(choices), gold


def read_items(file):
    return [_item(raw, file, lineno)
            for lineno, raw in data_path.jsonl_lines(file)]


def _options(choices):
    return dict(zip(LETTERS, choices))


class HellaswagDataset(BaseDataset):
    """ctx, A-D and label as the gold index (perplexity configs)."""

    @staticmethod
    def row(query, context, choices, gold):
        return {'ctx': context, **_options(choices), 'label': gold}

    @classmethod
    def load(cls, path, **kwargs):
        file = data_path.resolve(path, 'HellaSwag', kind='file')
        rows = [cls.row(*item) for item in read_items(file)]
        return {'test': rows, 'train': rows}


class HellaswagDataset_V2(HellaswagDataset):
    """ctx, A-D and label as the gold letter (generation configs)."""

    @staticmethod
    def row(query, context, choices, gold):
        return {'ctx': context, **_options(choices), 'label': LETTERS[gold]}


class HellaswagDataset_V3(HellaswagDataset):
    """The full query, A-D and the gold index."""

    @staticmethod
    def row(query, context, choices, gold):
        return {'query': query, **_options(choices), 'gold': gold}


class HellaswagDatasetwithICE(BaseDataset):
    """Few-shot: train (25 sampled items) and val splits from one folder, label
    as the gold letter."""

    @staticmethod
    def load(path, **kwargs):
        folder = data_path.resolve(path, 'HellaSwag', kind='dir')
        splits = {}
        for split, name in (('train', TRAIN_FILE), ('val', VAL_FILE)):
            file = os.path.join(folder, name)
            if not os.path.isfile(file):
                raise data_path.missing_file(file, 'HellaSwag')
            splits[split] = [HellaswagDataset_V2.row(*item)
                             for item in read_items(file)]
        return splits


# Spellings of older OpenCompass releases.
hellaswagDataset = HellaswagDataset
hellaswagDataset_V2 = HellaswagDataset_V2
hellaswagDataset_V3 = HellaswagDataset_V3
hellaswagDatasetwithICE = HellaswagDatasetwithICE
