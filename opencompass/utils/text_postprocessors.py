"""Pull the chosen option out of a generated answer, for multiple choice scored
by generation. Each function takes the model's text and returns the option
letter it names, or '' when it names none (scored wrong, never guessed).

The names and arguments are those OpenCompass configs use in
`pred_postprocessor=dict(type=..., ...)`.
"""
import re

# Phrases that introduce the chosen option, strongest first. `{o}` is the class
# of option letters, e.g. [ABCD].
_ANSWER_PHRASES = (
    r'answer\s+is\s*:?\s*\(?\s*({o})\b',
    r'answer\s*:\s*\(?\s*({o})\b',
    r'correct\s+(?:option|choice|answer)\s+is\s*:?\s*\(?\s*({o})\b',
    r'(?:option|choice)\s+\(?({o})\)?\s+is\s+(?:correct|right)',
    r'答案\s*(?:是|为|应该是|应为)?\s*[:：]?\s*\(?\s*({o})',
    r'(?:选择?|选项)\s*\(?\s*({o})',
)
# Where the option stands alone at the very start: 'B', 'B.', '(B)', 'B) ...'.
_LEADING = r'^\s*\(?\s*({o})\s*(?:[.)．、:：]|$|\s)'


def _option_class(options):
    letters = ''.join(dict.fromkeys(str(options)))
    return '[' + re.escape(letters) + ']'


def first_option_postprocess(text, options='ABCD', cushion=True):
    """The option the text chooses: after an answer phrase ('The answer is
    (C)', 'Answer: C', '答案是C'), else a letter at the very start ('C.'),
    else (with `cushion`) the first option letter standing alone as a word.
    """
    text = str(text or '')
    o = _option_class(options)
    for phrase in _ANSWER_PHRASES:
        m = re.search(phrase.format(o=o), text, flags=re.IGNORECASE)
        if m and m.group(1).upper() in options:
            return m.group(1).upper()
    m = re.search(_LEADING.format(o=o), text)
    if m:
        return m.group(1)
    if cushion:
        m = re.search(r'(?<![A-Za-z])({o})(?![A-Za-z])'.format(o=o), text)
        if m:
            return m.group(1)
    return ''


def first_capital_postprocess(text):
    """The first capital letter of the text ('' if there is none)."""
    for char in str(text or ''):
        if 'A' <= char <= 'Z':
            return char
    return ''


def match_answer_pattern(response_text, answer_pattern):
    """The first group of the first match of `answer_pattern`, else ''."""
    m = re.search(answer_pattern, str(response_text or ''))
    return m.group(1) if m else ''
