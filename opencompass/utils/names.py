"""File names for model and dataset abbrs.

An abbr is whatever a config says (`'../../x'`, `'/abs/path'`, 300 characters,
a NUL, `'qwen/7b'`); tables show it as written, but on disk it becomes one
bounded, legal path component, so nothing is ever written outside the run
folder and two different abbrs never share a file.
"""
import hashlib
import re

MAX_NAME = 120  # bytes; far below NAME_MAX (255) with room for '.stats.json'
_UNSAFE = re.compile(r'[^\w.+=,@\-]')


def file_name(abbr):
    """A safe file name for `abbr`: kept as is when it already is one, else
    cleaned and suffixed with a hash of the original (so distinct abbrs stay
    distinct)."""
    abbr = str(abbr)
    safe = _UNSAFE.sub('_', abbr).lstrip('.') or '_'
    if safe == abbr and len(abbr.encode()) <= MAX_NAME:
        return abbr
    digest = hashlib.sha256(abbr.encode('utf-8', 'surrogatepass')).hexdigest()[:10]
    room = MAX_NAME - len(digest) - 1
    head = safe.encode('utf-8', 'surrogatepass')[:room].decode('utf-8', 'ignore')
    return f'{head}-{digest}'
