"""Datasets as plain lists of rows, read once and sliced by `reader_cfg`.

A dataset class implements `load(path, **kwargs) -> {split: [row, ...]}`; the
base class applies `reader_cfg` (input/output columns, `test_range`) so every
dataset slices and names its columns the same way.
"""
import re

from opencompass.errors import ConfigError


def apply_range(rows, spec):
    """Apply a `test_range` such as '[0:50]', '[:10]' or '[5]' to a list."""
    if not spec:
        return rows
    m = re.fullmatch(r'\s*\[\s*(-?\d*)\s*(:?)\s*(-?\d*)\s*\]\s*', str(spec))
    if not m:
        raise ConfigError(f"test_range {spec!r} is not a slice; write it like "
                          "'[0:50]'")
    start, colon, stop = m.groups()
    if not colon:
        i = int(start)
        return rows[i:i + 1] if i != -1 else rows[-1:]
    return rows[slice(int(start) if start else None, int(stop) if stop else None)]


class BaseDataset:
    """Rows of a benchmark: `self.test` (sliced by test_range) and `self.train`."""

    def __init__(self, path=None, reader_cfg=None, abbr=None, **load_kwargs):
        self.abbr = abbr
        self.reader_cfg = dict(reader_cfg or {})
        splits = self.load(path=path, **load_kwargs)
        train_split = self.reader_cfg.get('train_split', 'train')
        test_split = self.reader_cfg.get('test_split', 'test')
        self.train = list(splits.get(train_split, []))
        self.test = apply_range(list(splits.get(test_split, [])),
                                self.reader_cfg.get('test_range'))
        self.train = apply_range(self.train, self.reader_cfg.get('train_range'))

    @property
    def input_columns(self):
        cols = self.reader_cfg.get('input_columns', [])
        return [cols] if isinstance(cols, str) else list(cols)

    @property
    def output_column(self):
        return self.reader_cfg.get('output_column')

    def references(self):
        col = self.output_column
        return [row.get(col) for row in self.test] if col else [None] * len(
            self.test)

    @staticmethod
    def load(path, **kwargs):
        raise NotImplementedError
