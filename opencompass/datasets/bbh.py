"""BIG-Bench Hard: 27 reasoning tasks, scored by exact match of the final answer.

Data, in OpenCompass's layout: `data/{task}.json` = `{"examples": [{"input",
"target"}, ...]}` under the folder that 'opencompass/bbh' names
(`$COMPASS_DATA_CACHE/data/BBH/data`), and the task's 3-shot chain-of-thought
prompt in `lib_prompt/{task}.txt` beside that folder. Each row gets the
prompt as its `cot_prompt` column, so a config can put it in its template.

Multiple-choice tasks have targets like '(B)': predictions and targets both
go through `bbh_mcq_postprocess` (-> 'B'). Free-form tasks ('True', '24',
') ] }') are compared after `bbh_freeform_postprocess`, which the evaluator
applies to the predictions itself.
"""
import json
import os
import re

from opencompass.datasets import data_path
from opencompass.datasets.base import BaseDataset
from opencompass.errors import DataPathError
from opencompass.openicl.icl_evaluator import BaseEvaluator


def _prompt_files(folder, name):
    """Where a task's CoT prompt may be: lib_prompt/ beside or inside `folder`."""
    return [os.path.join(os.path.dirname(os.path.abspath(folder)), 'lib_prompt',
                         f'{name}.txt'),
            os.path.join(folder, 'lib_prompt', f'{name}.txt')]


class BBHDataset(BaseDataset):
    """One BBH task (`name`) read from `path`, the folder of the task files."""

    def __init__(self, path=None, reader_cfg=None, abbr=None, name=None, **kw):
        super().__init__(path=path, reader_cfg=reader_cfg, abbr=abbr, name=name,
                         **kw)
        if ('cot_prompt' in self.input_columns and self.test
                and 'cot_prompt' not in self.test[0]):
            folder = data_path.resolve(path, 'BBHDataset')
            places = ' or '.join(_prompt_files(folder, name))
            raise DataPathError(f'BBH task {name}: its chain-of-thought prompt '
                                f'is not at {places}; add the lib_prompt folder '
                                'of the BBH data')

    @staticmethod
    def load(path, name=None, **kwargs):
        if not name:
            raise DataPathError("BBHDataset needs name=, the task (e.g. "
                                "'date_understanding')")
        folder = data_path.resolve(path, 'BBHDataset')
        file = data_path.find_file(folder, [f'{name}.json'], 'BBHDataset')
        try:
            with open(file, encoding='utf-8') as f:
                examples = json.load(f)['examples']
        except (json.JSONDecodeError, KeyError, TypeError):
            raise DataPathError(f'{file} is not a BBH task file (a JSON object '
                                'with an "examples" list)') from None
        prompt = next((p for p in _prompt_files(folder, name)
                       if os.path.isfile(p)), None)
        extra = {}
        if prompt:
            with open(prompt, encoding='utf-8') as f:
                extra['cot_prompt'] = _strip_canary(f.read())
        return {'test': [{**row, **extra} for row in examples]}


def _strip_canary(text):
    """The prompt files may start with a canary line and a '-----' rule."""
    if text.lstrip().lower().startswith('big-bench canary'):
        parts = text.split('-----', 1)
        text = parts[1] if len(parts) == 2 else text
    return text.strip()


def _after_answer_is(text):
    """The text after the first 'answer is' (the CoT prompts end with 'So the
    answer is X.'), cut where a base model starts the next question."""
    text = str(text or '')
    text = re.split(r'\n\s*Q:', text, maxsplit=1)[0]
    parts = re.split(r'answer is\s*:?', text, maxsplit=1, flags=re.I)
    return parts[1].strip() if len(parts) == 2 else text.strip()


def bbh_mcq_postprocess(text):
    """The option letter of a multiple-choice answer: '(B)' -> 'B',
    '... So the answer is (C).' -> 'C'; else the first capital letter."""
    ans = _after_answer_is(text)
    m = re.search(r'\(([A-Z])\)', ans) or re.search(r'\b([A-Z])\b', ans)
    return m.group(1) if m else ans


def bbh_freeform_postprocess(text):
    """A free-form answer: the rest of the 'answer is' line, without a final
    period or **bold** marks."""
    ans = _after_answer_is(text).split('\n')[0].strip()
    ans = ans[:-1].strip() if ans.endswith('.') else ans
    m = re.search(r'\*\*(.*?)\*\*', ans)
    return m.group(1).strip() if m else ans


def _exact_match(predictions, references, key='score'):
    if len(predictions) != len(references):
        return {'error': 'predictions and references have different length'}
    details = [{'pred': p, 'answer': r, 'correct': p == r}
               for p, r in zip(predictions, references)]
    correct = sum(d['correct'] for d in details)
    return {key: 100 * correct / len(details) if details else 0.0,
            'details': details}


class BBHEvaluator(BaseEvaluator):
    """Free-form tasks: exact match after `bbh_freeform_postprocess`."""

    def score(self, predictions, references, test_set=None):
        return _exact_match([bbh_freeform_postprocess(p) for p in predictions],
                            [str(r).strip() for r in references])


class BBHEvaluator_mcq(BaseEvaluator):  # noqa: N801 (upstream's name)
    """Multiple-choice tasks: exact match of already extracted option letters."""

    def score(self, predictions, references, test_set=None):
        return _exact_match([str(p).strip() for p in predictions],
                            [str(r).strip() for r in references])
