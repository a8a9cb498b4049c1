"""MATH answers: take them out of LaTeX text, normalize them, decide equivalence.

Answers in MATH are LaTeX fragments ('\\frac{1}{2}', '(3,\\frac{\\pi}{2})',
'10\\%'), written in many equivalent ways. Equivalence is decided in three
steps, cheapest first:

1. the same string after normalization (`strip_answer`: spacing, \\left/\\right,
   \\dfrac -> \\frac, '\\frac12' -> '\\frac{1}{2}', units in \\text{}, degrees,
   '$', a leading 'x =', thousands commas, trailing zeros);
2. the same number, when both sides are plain numbers;
3. the same mathematical object for `math-verify` (sympy-based parsing of
   LaTeX: '0.5' vs '\\frac{1}{2}', '\\sqrt{8}' vs '2\\sqrt{2}', set/tuple
   order), when that package is installed.
"""
import logging
import re
import threading

logger = logging.getLogger(__name__)

_BOX_COMMANDS = ('\\boxed', '\\fbox')


def last_boxed_only_string(text):
    """The last '\\boxed{...}' (or '\\fbox{...}', or '\\boxed 5') in `text`,
    braces balanced, command included; None if there is none."""
    text = str(text or '')
    start = max(text.rfind(cmd) for cmd in _BOX_COMMANDS)
    if start < 0:
        return None
    cmd = next(c for c in _BOX_COMMANDS if text.startswith(c, start))
    rest = text[start + len(cmd):]
    if rest.startswith(' '):  # '\boxed 5': up to the next '$' or space
        return cmd + ' ' + re.split(r'[\s$]', rest[1:], maxsplit=1)[0]
    depth = 0
    for i, ch in enumerate(rest):
        if ch == '{':
            depth += 1
        elif ch == '}':
            depth -= 1
            if depth == 0:
                return text[start:start + len(cmd) + i + 1]
    return None  # unbalanced: no answer


def remove_boxed(boxed):
    """'\\boxed{x}' -> 'x', '\\boxed 5' -> '5'; None stays None."""
    if boxed is None:
        return None
    for cmd in _BOX_COMMANDS:
        if boxed.startswith(cmd + ' '):
            return boxed[len(cmd) + 1:]
        if boxed.startswith(cmd + '{') and boxed.endswith('}'):
            return boxed[len(cmd) + 1:-1]
    return boxed


def extract_boxed_answer(text):
    """The content of the last box in `text`, or None."""
    return remove_boxed(last_boxed_only_string(text))


# -- normalization -----------------------------------------------------------

# Words and marks that decorate an answer without changing it (units, ordinals,
# spacing commands), as they occur in MATH solutions and model outputs.
_DECORATIONS = [
    r'\\text\{\s*(?:units?|dollars?|cents?|degrees?|inches|inch|feet|foot|ft|'
    r'meters?|cm|km|miles?|mph|hours?|minutes?|seconds?|days?|years?|pounds?|'
    r'square\s+\w+|sq\s*\w+|ways|points?|students?|people|cubic\s+\w+)\s*\}',
    r'\^\{?\\circ\}?', r'\\mathrm\{th\}', r'\\!', r'\\,', r'\\;', r'\\:',
    r'\\quad', r'\\qquad', r'\\displaystyle',
]
_DECORATION = re.compile('|'.join(_DECORATIONS))
_TEXT_WRAP = re.compile(r'\\(?:text|textbf|mathrm|mbox|textit|mathbf)\{([^{}]*)\}')


def _fix_fracs(s):
    r"""'\frac12' -> '\frac{1}{2}', '\frac1{x}' -> '\frac{1}{x}'."""
    return re.sub(r'\\frac\s*([^{\s\\])\s*([^{\s\\])', r'\\frac{\1}{\2}',
                  re.sub(r'\\frac\s*([^{\s\\])\s*\{', r'\\frac{\1}{', s))


def _fix_sqrt(s):
    r"""'\sqrt3' -> '\sqrt{3}'."""
    return re.sub(r'\\sqrt\s*([^{\s\\\[])', r'\\sqrt{\1}', s)


def _plain_number(s):
    """'1,000' -> '1000', '2.50' -> '2.5', '-.5' -> '-0.5'; else unchanged."""
    if re.fullmatch(r'-?\d{1,3}(,\d{3})+(\.\d+)?', s):
        s = s.replace(',', '')
    m = re.fullmatch(r'(-?)(\d*)\.(\d+)', s)
    if m:
        sign, whole, frac = m.groups()
        frac = frac.rstrip('0')
        s = f'{sign}{whole or "0"}' + (f'.{frac}' if frac else '')
    return s


def strip_answer(answer):
    """A canonical string for a LaTeX answer (both sides of a comparison)."""
    s = str(answer or '').strip()
    s = s.replace('\n', '').replace('\\$', '').replace('$', '')
    s = s.replace('\\left', '').replace('\\right', '')
    s = s.replace('\\dfrac', '\\frac').replace('\\tfrac', '\\frac')
    s = s.replace('\\%', '').replace('%', '')
    s = _DECORATION.sub('', s)
    s = _TEXT_WRAP.sub(r'\1', s)
    s = s.strip().rstrip('.').strip()
    # 'x = 5', 'k=5': keep the value when the left side is a short name
    m = re.fullmatch(r'\s*[A-Za-z](?:_\{?\w+\}?)?\s*=\s*(.+)', s)
    if m:
        s = m.group(1)
    s = _fix_sqrt(_fix_fracs(s))
    s = s.replace(' ', '').replace('{,}', ',')
    s = re.sub(r'(?<![\d}])\.(\d)', r'0.\1', s)  # '.5' -> '0.5'
    if re.fullmatch(r'-?\d+/\d+', s):  # '1/2' -> '\frac{1}{2}'
        num, den = s.lstrip('-').split('/')
        s = ('-' if s.startswith('-') else '') + f'\\frac{{{num}}}{{{den}}}'
    if s == '0.5':
        s = '\\frac{1}{2}'
    return _plain_number(s)


def normalize_final_answer(answer):
    """Normalize a model's final answer (after 'The final answer is'):
    the right-hand side of an equation, without '$', boxes, text wrappers or
    units; then as `strip_answer`."""
    s = str(answer or '').strip()
    boxed = extract_boxed_answer(s)
    if boxed is not None:
        s = boxed
    s = s.split('=')[-1].strip()
    s = re.sub(r'^(?:an?\s+)', '', s)
    # a number followed by plain words is a number with its unit: '12 dollars'
    s = re.sub(r'^(-?\$?[\d.,]+)\s+[A-Za-z][A-Za-z\s]*$', r'\1', s)
    return strip_answer(s)


# -- equivalence -------------------------------------------------------------

def _as_float(s):
    m = re.fullmatch(r'-?\\frac\{(-?\d+)\}\{(\d+)\}', s)
    try:
        if m:
            value = int(m.group(1)) / int(m.group(2))
            return -value if s.startswith('-') else value
        return float(s)
    except (ValueError, ZeroDivisionError):
        return None


_warned = []


def _math_verify_equal(pred, ref):
    """math-verify's judgement, or None when the package is missing."""
    try:
        from math_verify import parse, verify
    except ImportError:
        if not _warned:
            _warned.append(True)
            logger.warning('math-verify is not installed; MATH answers are '
                           'compared as normalized strings and numbers only '
                           '(pip install math-verify)')
        return None
    # its time limits use SIGALRM, which works in the main thread only
    limit = 5 if threading.current_thread() is threading.main_thread() else None
    try:
        gold = parse(f'${ref}$', parsing_timeout=limit)
        target = parse(f'${pred}$', parsing_timeout=limit)
        return bool(gold and target and verify(gold, target,
                                               timeout_seconds=limit))
    except Exception:  # a parser failure on odd LaTeX means: not shown equal
        return False


def is_equiv(pred, ref, use_math_verify=True):
    """Whether `pred` and `ref` (LaTeX answers) denote the same answer."""
    if pred is None or ref is None:
        return False
    a, b = strip_answer(pred), strip_answer(ref)
    if not a:
        return False
    if a == b:
        return True
    fa, fb = _as_float(a), _as_float(b)
    if fa is not None and fb is not None:
        return abs(fa - fb) <= 1e-6 * max(1.0, abs(fb))
    return bool(use_math_verify and _math_verify_equal(pred, ref))
