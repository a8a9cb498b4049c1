"""Where a run writes: outputs/<work_dir>/<YYYYmmdd_HHMMSS>/{configs,predictions,
results,judge,summary,logs}. One place, so every writer and reader agrees.

Model and dataset abbrs become file names through `utils.names.file_name`, and
every path is checked to stay inside the run folder.
"""
import os
import re
import time

from opencompass.utils.names import file_name

STAMP = re.compile(r'^\d{8}_\d{6}(_\d+)?$')


class RunLayout:

    def __init__(self, root):
        self.root = root
        self.stamp = os.path.basename(root.rstrip('/'))

    @classmethod
    def new(cls, work_dir):
        """A fresh run folder, created at once (so two runs started in the
        same second get two folders)."""
        stamp = base = time.strftime('%Y%m%d_%H%M%S')
        os.makedirs(work_dir, exist_ok=True)
        for n in range(1, 1000):
            try:
                os.mkdir(os.path.join(work_dir, stamp))
                break
            except FileExistsError:
                stamp = f'{base}_{n}'
        return cls(os.path.join(work_dir, stamp))

    @staticmethod
    def runs(work_dir):
        """The run folders under `work_dir`, newest first."""
        if not os.path.isdir(work_dir):
            return []
        return sorted((d for d in os.listdir(work_dir) if STAMP.match(d)),
                      key=lambda d: [int(p) for p in d.split('_')], reverse=True)

    def _path(self, *parts):
        path = os.path.join(self.root, *parts)
        real_root = os.path.realpath(self.root)
        if os.path.commonpath([os.path.realpath(path), real_root]) != real_root:
            raise ValueError(f'{path} is outside the run folder {self.root}')
        return path

    def predictions(self, model, dataset, shard=None):
        """The predictions file of a pair, or of one shard of it (shard files
        live in their own folder, so no dataset abbr can collide with one)."""
        return self._path('predictions', file_name(model),
                          *self._shard_part(dataset, shard, '.jsonl'))

    def stats(self, model, dataset, shard=None):
        return self._path('predictions', file_name(model),
                          *self._shard_part(dataset, shard, '.stats.json'))

    def pair_files(self, model, dataset, ext='.jsonl'):
        """Every predictions (or stats) file of a pair: the unsharded one and
        each shard's, whatever shard count wrote them."""
        folder = self._path('predictions', file_name(model))
        name = file_name(dataset)
        shard_file = re.compile(re.escape(name) + r'_\d+' + re.escape(ext) + '$')
        shards = os.path.join(folder, 'shards')
        found = [os.path.join(shards, f) for f in sorted(os.listdir(shards))
                 if shard_file.match(f)] if os.path.isdir(shards) else []
        return [os.path.join(folder, name + ext), *found]

    @staticmethod
    def _shard_part(dataset, shard, ext):
        if shard is None or shard.count == 1:
            return [file_name(dataset) + ext]
        return ['shards', f'{file_name(dataset)}{shard.suffix}{ext}']

    def infer_log(self, model, dataset, shard=None):
        suffix = shard.suffix if shard is not None else ''
        return self._path('logs', 'infer', file_name(model),
                          f'{file_name(dataset)}{suffix}.out')

    def judge_log(self, model, dataset):
        """The verdicts of an LLM judge on a pair's predictions."""
        return self._path('judge', file_name(model),
                          f'{file_name(dataset)}.jsonl')

    def results(self, model, dataset):
        return self._path('results', file_name(model),
                          f'{file_name(dataset)}.json')

    @property
    def configs(self):
        return self._path('configs')

    @property
    def summary(self):
        return self._path('summary')

    @property
    def logs(self):
        return self._path('logs')
