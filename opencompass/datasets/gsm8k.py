"""GSM8K: grade-school math word problems scored by their final number.

Data is read from a folder of JSONL files (`test.jsonl`, optionally `train.jsonl`
for few-shot examples), each line `{"question": ..., "answer": "... #### 42"}`,
the layout of the original release. Rows are kept as they are; the reference
number is taken out of `answer` by `gsm8k_dataset_postprocess` at eval time, so
few-shot prompts can still show the worked solution.
"""
import os
import re
from decimal import Decimal, InvalidOperation

from opencompass.datasets import data_path
from opencompass.datasets.base import BaseDataset
from opencompass.errors import DataPathError
from opencompass.openicl.icl_evaluator import BaseEvaluator

_HUB_ID = re.compile(r'[A-Za-z0-9][\w.-]*/[\w.-]+')

# A number as people write it: '1,234.50', '3', '.5', '-0.5', '$-5', '-$5'.
# A '-' counts as a sign only when it does not follow a word or ')' (so '10-3'
# yields 10 and 3, not 10 and -3). Thousands groups need exactly 3 digits, so a
# list like '1,2,3' stays three numbers.
_NUMBER = re.compile(
    r'(?:(?<![\w).])-)?\$?(?:(?<=\$)-)?'
    r'(?:\d{1,3}(?:,\d{3})+(?!\d)|\d+)(?:\.\d+)?'
    r'|(?:(?<![\w)])-)?(?<!\d)\.\d+')


def _read_jsonl(file):
    rows = []
    for lineno, row in data_path.jsonl_lines(file):
        if not isinstance(row, dict) or not {'question', 'answer'} <= set(row):
            raise DataPathError(
                f"{file}:{lineno} lacks 'question' and 'answer'; each line "
                'must be a JSON object with both keys')
        rows.append(row)
    return rows


def _load_hub(path):
    """Load a hub dataset id with the `datasets` package (imported only here)."""
    todo = ('download test.jsonl (and train.jsonl) of GSM8K and point path= at '
            'the folder holding them')
    try:
        import datasets  # noqa: F401  (heavy and optional)
    except ImportError:
        raise DataPathError(
            f"dataset path {path!r} is not a folder and the 'datasets' package "
            f'is not installed to fetch it from the hub; {todo}') from None
    try:
        splits = datasets.load_dataset(path, 'main')
    except Exception as e:  # no network, unknown id, ... : all user-fixable
        reason = ' '.join(str(e).split())[:200]
        raise DataPathError(f'dataset path {path!r} is not a folder and could '
                            f'not be loaded from the hub ({reason}); {todo}') \
            from None
    return {name: [dict(r) for r in split] for name, split in splits.items()}


def gsm8k_cot_answer(answer):
    """A GSM8K solution as few-shot prompts show it: without the calculator
    annotations ('<<3*2=6>>') and ending 'The answer is 42' instead of
    '#### 42'."""
    text = re.sub(r'<<[^<>]*>>', '', str(answer))
    return re.sub(r'####\s*', 'The answer is ', text)


def _with_cot_answers(splits):
    """Each row also gets, for few-shot templates, `cot_answer` (see
    gsm8k_cot_answer) and `final_answer` (the number after '####')."""
    return {name: [{**row, 'cot_answer': gsm8k_cot_answer(row['answer']),
                    'final_answer': gsm8k_dataset_postprocess(row['answer'])}
                   for row in rows] for name, rows in splits.items()}


class GSM8KDataset(BaseDataset):
    """GSM8K read from `path`: a folder with test.jsonl (+ train.jsonl), an
    OpenCompass id ('opencompass/gsm8k' = $COMPASS_DATA_CACHE/data/gsm8k) or a
    hub id."""

    @staticmethod
    def load(path, **kwargs):
        if not path:
            raise DataPathError('GSM8KDataset needs path=: the folder holding '
                                "GSM8K's test.jsonl")
        path = os.path.expanduser(str(path))
        if (not os.path.exists(path) and _HUB_ID.fullmatch(path)
                and not path.startswith(data_path.PREFIX)):
            return _with_cot_answers(_load_hub(path))
        path = data_path.resolve(path, 'GSM8KDataset')
        test = os.path.join(path, 'test.jsonl')
        if not os.path.isfile(test):
            raise DataPathError(
                f'{test} not found; put test.jsonl there, or point path= at '
                "the folder holding GSM8K's test.jsonl")
        splits = {'test': _read_jsonl(test)}
        train = os.path.join(path, 'train.jsonl')
        splits['train'] = _read_jsonl(train) if os.path.isfile(train) else []
        return _with_cot_answers(splits)


def _normalize(num):
    """'5.00' -> '5', '2.50' -> '2.5', '.5' -> '0.5', '-0' -> '0'; else unchanged."""
    try:
        d = Decimal(num)
    except InvalidOperation:
        return num
    if not d.is_finite():
        return num
    if d == d.to_integral_value():
        return str(int(d))
    return format(d.normalize(), 'f')


def _clean(match):
    """Turn a matched number ('-$1,234.50') into its normalized form ('-1234.5')."""
    return _normalize(re.sub(r'[$,]', '', match))


def _first_number(text):
    m = _NUMBER.search(text)
    return _clean(m.group()) if m else None


def _boxed(text):
    """Content of the first \\boxed{...}, braces balanced; None if absent."""
    start = text.find('\\boxed{')
    if start < 0:
        return None
    depth, i = 0, start + len('\\boxed')
    for j in range(i, len(text)):
        depth += {'{': 1, '}': -1}.get(text[j], 0)
        if depth == 0:
            return text[i + 1:j]
    return text[i + 1:]


def gsm8k_postprocess(text):
    """The final answer in a model's output, as a normalized number string.

    Tries, in order: the number after '####', after 'The answer is', inside
    '\\boxed{}', then the last number in the text; '' when there is none. Text
    after a 'Question:' that follows the answer is dropped first, because base
    models doing few-shot keep going with a made-up next question.
    """
    text = str(text or '')
    cut = text.find('Question:')
    if cut > 0:
        text = text[:cut]
    for marker in (re.compile(r'####'), re.compile(r'the answer is', re.I)):
        m = marker.search(text)
        if m:
            num = _first_number(text[m.end():])
            if num is not None:
                return num
    boxed = _boxed(text)
    if boxed is not None:
        num = _first_number(boxed)
        if num is not None:
            return num
    numbers = _NUMBER.findall(text)
    return _clean(numbers[-1]) if numbers else ''


def gsm8k_dataset_postprocess(text):
    """The reference number: what follows '####' in a GSM8K answer, normalized."""
    ref = str(text).split('####')[-1].strip()
    return _normalize(ref.replace(',', '').replace('$', '').strip())


def _equal(pred, ref):
    try:
        return abs(float(pred) - float(ref)) < 1e-6
    except (TypeError, ValueError):
        return str(pred) == str(ref)


class Gsm8kEvaluator(BaseEvaluator):
    """Accuracy over already-extracted answers, compared as numbers when both parse."""

    def score(self, predictions, references, test_set=None):
        if len(predictions) != len(references):
            return {'error': 'predictions and references have different length'}
        details = [{'pred': p, 'answer': r, 'correct': _equal(p, r)}
                   for p, r in zip(predictions, references)]
        correct = sum(d['correct'] for d in details)
        accuracy = 100 * correct / len(details) if details else 0.0
        return {'accuracy': accuracy, 'details': details}
