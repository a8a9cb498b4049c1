"""Verdicts of an LLM judge, read the way OpenCompass's judge templates ask.

The templates of `GenericLLMEvaluator` configs ask the judge for one letter:
"A" (CORRECT) or "B" (INCORRECT). `parse_verdict` reads that letter (or the
word the template names it by); a reply with neither cannot be parsed, counts
as incorrect (as upstream, which defaults to "B") and is counted separately so
the summary can say how many verdicts were unreadable.

Parsing is stricter than upstream's first-capital-A-or-B search, which reads
"Answer: B" as A: a standalone letter is taken, then the words CORRECT /
INCORRECT; a leading `<think>...</think>` block of a reasoning judge is skipped.

The two dict postprocessors take upstream's arguments
(`output: {"0": {"prediction": judge reply, "gold": ...}}`, `output_path`) and
return `{metric: percent judged correct, "details": [...]}` in sample order.
"""
import re

CORRECT, INCORRECT = 'A', 'B'
_THINK = re.compile(r'^\s*<think>.*?</think>', re.S)
_LEADING = re.compile(r'^\W*([AB])(?![A-Za-z])')
_LETTER = re.compile(r'(?<![A-Za-z])([AB])(?![A-Za-z])')
_WORD = re.compile(r'\b(INCORRECT|CORRECT)\b')


def parse_verdict(reply):
    """'A' (correct), 'B' (incorrect) or None (no verdict in the reply)."""
    text = _THINK.sub('', str(reply or ''), count=1).strip()
    for pattern in (_LEADING, _LETTER):
        match = pattern.search(text)
        if match:
            return match.group(1)
    match = _WORD.search(text)
    if match:
        return CORRECT if match.group(1) == 'CORRECT' else INCORRECT
    return None


def _ordered(output):
    """Upstream's `{"0": {...}, "1": {...}}` as a list in sample order."""
    if isinstance(output, dict):
        return [output[k] for k in sorted(output, key=lambda k: int(k))]
    return list(output)


def judge_details(output):
    """One detail per judged sample: the reply, its verdict, whether it
    parsed, and whether it says correct."""
    details = []
    for entry in _ordered(output):
        reply = entry.get('prediction', '')
        verdict = parse_verdict(reply)
        details.append({'judge_response': reply, 'verdict': verdict,
                        'parsed': verdict is not None,
                        'correct': verdict == CORRECT, 'gold': entry.get('gold')})
    return details


def _judged_result(output, metric_name):
    details = judge_details(output)
    correct = sum(d['correct'] for d in details)
    return {metric_name: 100 * correct / len(details) if details else 0.0,
            'details': details}


def generic_llmjudge_postprocess(output, output_path=None):
    """`{'accuracy': percent judged correct, 'details': [...]}`."""
    return _judged_result(output, 'accuracy')


def generic_llmjudge_academic_postprocess(output, output_path=None,
                                          metric_name='accuracy'):
    """As `generic_llmjudge_postprocess`, under `metric_name` (upstream's
    academic summaries name the metric per dataset)."""
    return _judged_result(output, metric_name)
