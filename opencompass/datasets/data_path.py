"""Where a dataset's `path=` points: a folder or file given as is, or an
OpenCompass data id ('opencompass/mmlu') read from the OpenCompass data layout
under `$COMPASS_DATA_CACHE/data/...` (./data/... when the variable is unset).

A missing path is one DataPathError line that names the place looked at and how
to get the data.
"""
import os

from opencompass.errors import DataPathError

# OpenCompass data id -> its place under <data root>/data (the layout of
# OpenCompass's data archive).
LOCAL_LAYOUT = {
    'opencompass/mmlu': 'mmlu',
    'opencompass/ai2_arc-dev': 'ARC/ARC-c/ARC-Challenge-Dev.jsonl',
    'opencompass/ai2_arc-test': 'ARC/ARC-c/ARC-Challenge-Test.jsonl',
    'opencompass/ai2_arc-easy-dev': 'ARC/ARC-e/ARC-Easy-Dev.jsonl',
    'opencompass/ai2_arc-easy-test': 'ARC/ARC-e/ARC-Easy-Test.jsonl',
    'opencompass/hellaswag': 'hellaswag/hellaswag.jsonl',
    'opencompass/hellaswag_ice': 'hellaswag',
    'opencompass/ceval-exam': 'ceval/formal_ceval',
}

HOW_TO_GET = ("download OpenCompass's data archive (OpenCompassData-core, from "
              'the open-compass/opencompass GitHub releases) and unpack it so '
              'that its data/ folder is under $COMPASS_DATA_CACHE (or the '
              'working folder), or point path= at your own copy')


def data_root():
    return os.path.join(os.environ.get('COMPASS_DATA_CACHE', ''), 'data')


def resolve(path, what, kind='any'):
    """The local file or folder of `path`. `kind` is 'file', 'dir' or 'any';
    `what` names the dataset in the error message."""
    if not path:
        raise DataPathError(f'{what} needs path=: an OpenCompass data id such as '
                            "'opencompass/mmlu' or a local folder")
    path = os.path.expanduser(str(path))
    if path in LOCAL_LAYOUT and not os.path.exists(path):
        local = os.path.join(data_root(), LOCAL_LAYOUT[path])
        where = f'{local} (for {path})'
    else:
        local, where = path, path
    ok = {'file': os.path.isfile, 'dir': os.path.isdir,
          'any': os.path.exists}[kind](local)
    if not ok:
        raise DataPathError(f'{what} data not found: looked for {where}; '
                            f'{HOW_TO_GET}')
    return local


def missing_file(file, what, choices=()):
    """The error for a file missing inside an existing data folder."""
    import difflib
    stem = os.path.basename(file)
    close = difflib.get_close_matches(stem, list(choices), n=3, cutoff=0.6)
    hint = f'; nearest: {", ".join(close)}' if close else ''
    return DataPathError(f'{what} data not found: looked for {file}{hint}; '
                         f'{HOW_TO_GET}')
