"""The judge log of one (model, dataset): every verdict, as it arrives.

Judging costs as much as inference (a large judge model, or a paid API), so
it keeps its results the way predictions do (tasks/predictions.py): one JSON
line per judged sample, appended and flushed at once, torn tails cut before
appending, rewritten atomically in sample order when judging ends.

A verdict is reused by `-r` only when it answers exactly the same question:
same sample, same judge, same rendered judge prompt (so a prediction redone
since, or an edited judge template, is judged again), and no error. A judge
API fault is recorded with its error and judged again by the next `-r`.
"""
import json

from opencompass.tasks.predictions import PredictionStore, _jsonable


class JudgeLog(PredictionStore):
    """`PredictionStore`'s crash-safe log, holding judge verdicts."""

    def write_verdict(self, idx, judge, prompt, gen):
        rec = {'idx': idx, 'judge': judge, 'judge_prompt': _jsonable(prompt),
               'judge_response': gen.text}
        if gen.error:
            rec['error'] = gen.error
        self._append(json.dumps(rec, ensure_ascii=False) + '\n')

    def reusable(self, judge, prompts):
        """idx -> record of each sample of `prompts` (idx -> prompt) whose
        verdict can be reused as it is."""
        found = {}
        for idx, rec in self.load().items():
            if (idx in prompts and not rec.get('error')
                    and rec.get('judge') == judge
                    and rec.get('judge_prompt') == _as_json(prompts[idx])):
                found[idx] = rec
        return found


def _as_json(prompt):
    """A prompt as it reads back from the log (lists, dicts, strings)."""
    return json.loads(json.dumps(_jsonable(prompt), ensure_ascii=False))
