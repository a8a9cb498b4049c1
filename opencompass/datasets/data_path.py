"""Where a dataset's `path=` points: a local file or folder, or an OpenCompass id.

Upstream configs write ids such as 'opencompass/math'. Like OpenCompass, we read
those from its data layout under the data root, `$COMPASS_DATA_CACHE/data/`
(or `./data/` when the variable is unset); most ids map to `data/<name>`, a few
to another folder or a single file (LAYOUT). A missing file or folder is one
line that names the place looked at and how to fill it.
"""
import os

from opencompass.errors import DataPathError

PREFIX = 'opencompass/'

# id -> place under the data root, where it is not simply the id's name.
LAYOUT = {
    'opencompass/bbh': 'BBH/data',
    'opencompass/humaneval': 'humaneval/human-eval-v2-20210705.jsonl',
}

GET_DATA = ('put the OpenCompass data archive there (set COMPASS_DATA_CACHE to '
            'the folder that holds data/), or point path= at a local copy')


def data_root():
    return os.path.join(os.environ.get('COMPASS_DATA_CACHE', ''), 'data')


def local_place(path):
    """The local file or folder an OpenCompass id stands for (it may not exist)."""
    name = LAYOUT.get(path, path[len(PREFIX):])
    return os.path.join(data_root(), name)


def resolve(path, dataset):
    """`path` as an existing local file or folder, or a DataPathError.

    `dataset` names the dataset class for the message.
    """
    if not path:
        raise DataPathError(f'{dataset} needs path=: its data file or folder, or '
                            "an OpenCompass id like 'opencompass/<name>'")
    path = os.path.expanduser(str(path))
    if os.path.exists(path):
        return path
    if path.startswith(PREFIX):
        local = local_place(path)
        if os.path.exists(local):
            return local
        raise DataPathError(f'{dataset}: {path!r} is read from {local}, which does '
                            f'not exist; {GET_DATA}')
    raise DataPathError(f'{dataset}: {path} does not exist; point path= at the '
                        "data, or use an OpenCompass id like 'opencompass/<name>'")


def find_file(folder, names, dataset):
    """The first of `names` that exists in `folder`, or a DataPathError."""
    for name in names:
        file = os.path.join(folder, name)
        if os.path.isfile(file):
            return file
    raise DataPathError(f'{dataset}: {" or ".join(names)} not found in {folder}; '
                        'point path= at the folder holding it')
