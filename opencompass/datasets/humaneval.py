"""HumanEval: write a Python function from its signature and docstring; pass@k.

Data: the original JSONL release, one problem a line with `task_id`, `prompt`,
`entry_point`, `canonical_solution` and `test` (which defines `check(fn)`).
A completion passes when `prompt + completion + test + check(entry_point)`
runs to the end without error. The program is model-written, so it runs in
`opencompass.utils.sandbox` (own process, time/memory/process limits, no
network, throwaway folder): a hanging or hostile completion fails its sample.
"""
import os
import re
from collections import defaultdict
from concurrent.futures import ThreadPoolExecutor
from math import comb

from opencompass.datasets import data_path
from opencompass.datasets.base import BaseDataset
from opencompass.errors import DataPathError
from opencompass.openicl.icl_evaluator import BaseEvaluator
from opencompass.utils.sandbox import Limits, run_python

FILES = ('human-eval-v2-20210705.jsonl', 'HumanEval.jsonl')
KEYS = {'task_id', 'prompt', 'entry_point', 'test'}


def _read_problems(file):
    rows = []
    for lineno, row in data_path.jsonl_lines(file):
        if not isinstance(row, dict) or not KEYS <= set(row):
            raise DataPathError(f'{file}:{lineno} lacks one of '
                                f'{sorted(KEYS)}; is this a HumanEval file?')
        rows.append(row)
    return rows


class HumanevalDataset(BaseDataset):
    """HumanEval from a JSONL file, or a folder holding the release's file.

    `num_repeats` (or upstream's newer spelling `n`) > 1 repeats each problem
    consecutively, to sample several completions a problem for pass@k.
    """

    @staticmethod
    def load(path, num_repeats=1, n=None, **kwargs):
        num_repeats = n or num_repeats
        path = data_path.resolve(path, 'HumanevalDataset')
        if os.path.isdir(path):
            path = data_path.find_file(path, FILES, 'HumanevalDataset')
        rows = [row for row in _read_problems(path)
                for _ in range(max(1, int(num_repeats)))]
        return {'test': rows}


_FENCE = re.compile(r'```[ \t]*([\w+-]*)[ \t]*\n(.*?)(?:```|\Z)', re.S)
_CODE_LINE = re.compile(r'^(?:def |class |import |from |return |[ \t]+\S)', re.M)


def humaneval_postprocess_v2(text):
    """The code in a completion: the first fenced block when there is one (chat
    models wrap code in ```python ... ```), else the text as it is. Code that
    comes before a bare fence (the model forgot the opening one) is the code."""
    text = str(text or '')
    start = text.find('```')
    if start < 0:
        return text
    before = text[:start]
    m = _FENCE.search(text, start)
    if _CODE_LINE.search(before) and not (m and m.group(1)):
        return before
    return m.group(2) if m else before


def build_program(problem, completion):
    """The program that passes iff the completion is right. A completion that
    repeats the whole function (with its imports) simply redefines it."""
    return (f"{problem['prompt']}{completion}\n\n{problem['test']}\n\n"
            f"check({problem['entry_point']})\n")


def pass_at_k(n, c, k):
    """Unbiased pass@k from n samples of which c pass (Chen et al., 2021):
    1 - C(n-c, k) / C(n, k)."""
    if n - c < k:
        return 1.0
    return 1.0 - comb(n - c, k) / comb(n, k)


class HumanEvalEvaluator(BaseEvaluator):
    """pass@k of completions, each run in the sandbox.

    Reports `humaneval_pass@k` (percent) for every k in `k` that the number of
    samples per problem allows (pass@1 always).
    """

    def __init__(self, k=(1, 10, 100), timeout=5.0, memory_mb=1024, workers=None,
                 **kwargs):
        super().__init__(**kwargs)
        self.k = [k] if isinstance(k, int) else list(k)
        self.limits = Limits(timeout=float(timeout), memory_mb=int(memory_mb))
        self.workers = workers or min(4, os.cpu_count() or 1)

    def _run(self, job):
        problem, completion = job
        return run_python(build_program(problem, completion), self.limits)

    def score(self, predictions, references, test_set=None):
        if test_set is None or len(test_set) != len(predictions):
            return {'error': 'HumanEvalEvaluator needs the test set (prompt, '
                    'test, entry_point) alongside the predictions'}
        jobs = list(zip(test_set, [str(p) for p in predictions]))
        with ThreadPoolExecutor(self.workers) as pool:
            runs = list(pool.map(self._run, jobs))
        # A hostile program (a fork bomb, a CPU hog) can starve or out-fork
        # its neighbours; it always ends in a timeout. When one did, every
        # failed program gets one more run, alone.
        if any(run.status == 'timeout' for run in runs):
            for i, run in enumerate(runs):
                if not run.passed:
                    runs[i] = self._run(jobs[i])
        details, by_task = [], defaultdict(list)
        for (problem, completion), run in zip(jobs, runs):
            by_task[problem['task_id']].append(run.passed)
            details.append({'pred': completion, 'answer': problem['task_id'],
                            'correct': run.passed, 'status': run.status,
                            'output': run.output[-500:]})
        n_min = min(len(v) for v in by_task.values()) if by_task else 0
        result = {} if by_task else {'humaneval_pass@1': 0.0}
        for k in sorted(set(self.k) | {1}):
            if k <= n_min:
                scores = [pass_at_k(len(v), sum(v), k) for v in by_task.values()]
                result[f'humaneval_pass@{k}'] = 100 * sum(scores) / len(scores)
        return {**result, 'details': details}
