"""MATH (Hendrycks et al.): competition problems with LaTeX final answers.

Data, in OpenCompass's layout: a folder (id 'opencompass/math') holding
`math.json`, `{"0": {"problem", "level", "type", "solution"}, ...}`, or another
file named by `file_name=` such as MATH-500's `test_prm800k_500.json(l)`
(rows also carry `answer`). As in OpenCompass, each row's `solution` becomes the
final answer (MATH-500's `answer`, else the last \\boxed{} of the worked
solution), so `output_column='solution'` is the reference to compare with.
"""
import json
import os
import re

from opencompass.datasets import data_path
from opencompass.datasets.base import BaseDataset
from opencompass.datasets.math_answer import (extract_boxed_answer, is_equiv,
                                              normalize_final_answer)
from opencompass.errors import DataPathError
from opencompass.openicl.icl_evaluator import BaseEvaluator


def _read_rows(file):
    """Rows of a JSONL file (`.jsonl`), else of a `{"0": {...}}` JSON object
    or a JSON list."""
    if file.endswith('.jsonl'):
        return [row for _, row in data_path.jsonl_lines(file)]
    with open(file, encoding='utf-8') as f:
        text = f.read()
    try:
        data = json.loads(text)
    except json.JSONDecodeError as e:
        raise DataPathError(f'{file} is not valid JSON ({e.msg} at line '
                            f'{e.lineno})') from None
    return list(data.values()) if isinstance(data, dict) else list(data)


def _final_answer(row, file, index):
    if not isinstance(row, dict) or 'problem' not in row:
        raise DataPathError(f"{file}: row {index} lacks 'problem'; is this a "
                            'MATH file?')
    if row.get('answer') not in (None, ''):
        return str(row['answer'])
    answer = extract_boxed_answer(row.get('solution', ''))
    if answer is None:
        raise DataPathError(f'{file}: row {index} has no answer and no \\boxed{{}} '
                            'in its solution')
    return answer


class MATHDataset(BaseDataset):
    """MATH from `path` (a folder, or the file itself) and `file_name`."""

    @staticmethod
    def load(path, file_name='math.json', **kwargs):
        path = data_path.resolve(path, 'MATHDataset')
        file = data_path.find_file(path, [file_name], 'MATHDataset') \
            if os.path.isdir(path) else path
        rows = []
        for i, row in enumerate(_read_rows(file)):
            answer = _final_answer(row, file, i)
            rows.append({**row, 'solution': answer})
        return {'test': rows, 'train': []}


_FINAL = re.compile(r'final answer is\s*(.*?)(?:\.\s*I hope|\n|$)', re.I | re.S)
_ANSWER_IS = re.compile(r'answer is[:\s]*(.*?)(?:\.\s|\.$|\n|$)', re.I | re.S)


def _strip_dollars(text):
    text = text.strip()
    m = re.fullmatch(r'\$+(.*?)\$+\.?', text, re.S)
    return m.group(1) if m else text


def math_postprocess(text):
    """The answer of a few-shot MATH output ('Final Answer: The final answer is
    $x$. I hope it is correct.'), normalized; else its last \\boxed{}; else ''."""
    text = str(text or '')
    for pattern in (_FINAL, _ANSWER_IS):
        m = pattern.search(text)
        if m and m.group(1).strip():
            return normalize_final_answer(_strip_dollars(m.group(1)))
    boxed = extract_boxed_answer(text)
    return normalize_final_answer(boxed) if boxed is not None else ''


def math_postprocess_v2(text):
    """The answer of a chain-of-thought MATH output: the content of the last
    \\boxed{} as written (the evaluator normalizes); else the text after
    'answer is'; else ''."""
    text = str(text or '')
    boxed = extract_boxed_answer(text)
    if boxed is not None:
        return boxed.strip()
    m = _ANSWER_IS.search(text)
    return normalize_final_answer(_strip_dollars(m.group(1))) if m else ''


class MATHEvaluator(BaseEvaluator):
    """Accuracy by answer equivalence (see `math_answer.is_equiv`).

    Predictions and references may be final answers or whole solutions: a
    `\\boxed{}` in either is taken as its answer, so upstream configs that score
    raw outputs against raw solutions (no postprocessor) work too. `version`
    ('v1'/'v2') is accepted for upstream configs; both use the same test.
    `use_math_verify=False` keeps to string and number comparison.
    """

    def __init__(self, version='v1', use_math_verify=True, **kwargs):
        super().__init__(**kwargs)
        self.version = version
        self.use_math_verify = use_math_verify

    @staticmethod
    def _answer(text):
        boxed = extract_boxed_answer(text)
        return boxed if boxed is not None else str(text or '')

    def score(self, predictions, references, test_set=None):
        if len(predictions) != len(references):
            return {'error': 'predictions and references have different length'}
        details = []
        for pred, ref in zip(predictions, references):
            p, r = self._answer(pred), self._answer(ref)
            details.append({'pred': p, 'answer': r,
                            'correct': is_equiv(p, r, self.use_math_verify)})
        correct = sum(d['correct'] for d in details)
        accuracy = 100 * correct / len(details) if details else 0.0
        return {'accuracy': accuracy, 'details': details}


class MATHVerifyEvaluator(MATHEvaluator):
    """Upstream's math-verify evaluator: raw outputs (no postprocessor) against
    reference answers; the last \\boxed{} of an output is its answer, and
    equivalence includes math-verify's symbolic check."""

    def __init__(self, **kwargs):
        kwargs.pop('use_math_verify', None)
        super().__init__(use_math_verify=True, **kwargs)
