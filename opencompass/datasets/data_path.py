"""Where a dataset's `path=` points: a local file or folder given as is, or an
OpenCompass data id ('opencompass/mmlu').

Upstream configs write ids. Like OpenCompass, we read those from its data
layout under the data root, `$COMPASS_DATA_CACHE/data/` (or `./data/` when the
variable is unset): most ids map to `data/<name>`, some to another folder or a
single file (LAYOUT). A missing file or folder is one DataPathError line that
names the place looked at and how to get the data.
"""
import difflib
import json
import os

from opencompass.errors import DataPathError

PREFIX = 'opencompass/'

# id -> its place under <data root>, where it is not simply the id's name
# (the layout of OpenCompass's data archive).
LAYOUT = {
    'opencompass/bbh': 'BBH/data',
    'opencompass/humaneval': 'humaneval/human-eval-v2-20210705.jsonl',
    'opencompass/mmlu': 'mmlu',
    'opencompass/ai2_arc-dev': 'ARC/ARC-c/ARC-Challenge-Dev.jsonl',
    'opencompass/ai2_arc-test': 'ARC/ARC-c/ARC-Challenge-Test.jsonl',
    'opencompass/ai2_arc-easy-dev': 'ARC/ARC-e/ARC-Easy-Dev.jsonl',
    'opencompass/ai2_arc-easy-test': 'ARC/ARC-e/ARC-Easy-Test.jsonl',
    'opencompass/hellaswag': 'hellaswag/hellaswag.jsonl',
    'opencompass/hellaswag_ice': 'hellaswag',
    'opencompass/ceval-exam': 'ceval/formal_ceval',
}
LOCAL_LAYOUT = LAYOUT  # the name the multiple-choice loaders document

HOW_TO_GET = ("download OpenCompass's data archive (OpenCompassData-core, from "
              'the open-compass/opencompass GitHub releases) and unpack it so '
              'that its data/ folder is under $COMPASS_DATA_CACHE (or the '
              'working folder), or point path= at your own copy')


def data_root():
    return os.path.join(os.environ.get('COMPASS_DATA_CACHE', ''), 'data')


def local_place(path):
    """The local file or folder an OpenCompass id stands for (it may not exist)."""
    return os.path.join(data_root(), LAYOUT.get(path, path[len(PREFIX):]))


def resolve(path, what, kind='any'):
    """`path` as an existing local file or folder, or a DataPathError.
    `kind` is 'file', 'dir' or 'any'; `what` names the dataset in the message."""
    if not path:
        raise DataPathError(f'{what} needs path=: its data file or folder, or an '
                            "OpenCompass data id such as 'opencompass/mmlu'")
    path = os.path.expanduser(str(path))
    exists = {'file': os.path.isfile, 'dir': os.path.isdir,
              'any': os.path.exists}[kind]
    if exists(path):
        return path
    if path.startswith(PREFIX):
        local = local_place(path)
        if exists(local):
            return local
        raise DataPathError(f'{what} data not found: looked for {local} (for '
                            f'{path}); {HOW_TO_GET}')
    raise DataPathError(f'{what} data not found: looked for {path}, which does '
                        'not exist; point path= at the data, or use an '
                        "OpenCompass id like 'opencompass/<name>'")


def find_file(folder, names, what):
    """The first of `names` that exists in `folder`, or a DataPathError."""
    for name in names:
        file = os.path.join(folder, name)
        if os.path.isfile(file):
            return file
    raise DataPathError(f'{what}: {" or ".join(names)} not found in {folder}; '
                        'point path= at the folder holding it')


def missing_file(file, what, choices=()):
    """The error for a file missing inside an existing data folder."""
    stem = os.path.basename(file)
    close = difflib.get_close_matches(stem, list(choices), n=3, cutoff=0.6)
    hint = f'; nearest: {", ".join(close)}' if close else ''
    return DataPathError(f'{what} data not found: looked for {file}{hint}; '
                         f'{HOW_TO_GET}')


def jsonl_lines(file):
    """(line number, object) for every non-blank line of a JSONL file; a line
    that is not JSON is one DataPathError naming the file and line."""
    with open(file, encoding='utf-8') as f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                yield lineno, json.loads(line)
            except json.JSONDecodeError as e:
                raise DataPathError(f'{file}:{lineno} is not valid JSON '
                                    f'({e.msg}); fix or remove that line') from None
