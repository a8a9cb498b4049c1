"""AI2 ARC (Challenge and Easy): grade-school science, four options.

Layout: the original AI2 JSONL, one question a line: `{"id", "question":
{"stem", "choices": [{"text", "label"}, ...]}, "answerKey"}`; 'opencompass/
ai2_arc-dev' and friends name the files under <data root>/data/ARC (see
data_path.LOCAL_LAYOUT). As upstream does, only questions with exactly four
choices are kept. Choices become `textA..textD` in their order; some rows label
them 1-4 instead of A-D, so `answerKey` is turned into the letter of the
choice it names.
"""

from opencompass.datasets import data_path
from opencompass.datasets.base import BaseDataset
from opencompass.errors import DataPathError

LETTERS = 'ABCD'


def to_row(item, file, lineno):
    try:
        choices = item['question']['choices']
        labels = [str(c['label']) for c in choices]
        row = {'id': item.get('id'), 'question': item['question']['stem']}
        answer = str(item['answerKey'])
    except (KeyError, TypeError):
        raise DataPathError(f'{file}:{lineno} is not an ARC question (needs '
                            'question.stem, question.choices, answerKey)') from None
    if len(choices) != 4:
        return None
    if answer not in labels:
        raise DataPathError(f'{file}:{lineno}: answerKey {answer!r} is none of '
                            f'the choice labels {labels}')
    for letter, choice in zip(LETTERS, choices):
        row['text' + letter] = choice['text']
    row['answerKey'] = LETTERS[labels.index(answer)]
    return row


class ARCDataset(BaseDataset):
    """One ARC JSONL file. `name` ('ARC-Challenge', 'ARC-Easy') is accepted as
    upstream configs pass it; the file is chosen by `path`."""

    @staticmethod
    def load(path, name=None, **kwargs):
        file = data_path.resolve(path, f'ARC {name or ""}'.strip(), kind='file')
        rows = [row for lineno, item in data_path.jsonl_lines(file)
                if (row := to_row(item, file, lineno)) is not None]
        return {'test': rows, 'train': rows}
