"""Where a run writes: outputs/<work_dir>/<YYYYmmdd_HHMMSS>/{configs,predictions,
results,summary,logs}. One place, so every writer and reader agrees."""
import os
import re
import time

STAMP = re.compile(r'^\d{8}_\d{6}$')


class RunLayout:

    def __init__(self, root):
        self.root = root
        self.stamp = os.path.basename(root.rstrip('/'))

    @classmethod
    def new(cls, work_dir):
        stamp = time.strftime('%Y%m%d_%H%M%S')
        root = os.path.join(work_dir, stamp)
        while os.path.exists(root):  # two runs in the same second
            time.sleep(1)
            stamp = time.strftime('%Y%m%d_%H%M%S')
            root = os.path.join(work_dir, stamp)
        return cls(root)

    @classmethod
    def reuse(cls, work_dir, stamp=None):
        """The named run, or the latest one; None when there is none."""
        from opencompass.errors import ConfigError
        if stamp:
            root = os.path.join(work_dir, stamp)
            if not os.path.isdir(root):
                raise ConfigError(f'no run {stamp} under {work_dir}; drop the '
                                  'stamp after -r to resume the latest run')
            return cls(root)
        runs = sorted(d for d in os.listdir(work_dir) if STAMP.match(d)) \
            if os.path.isdir(work_dir) else []
        return cls(os.path.join(work_dir, runs[-1])) if runs else None

    def _path(self, *parts):
        return os.path.join(self.root, *parts)

    def predictions(self, model, dataset):
        return self._path('predictions', model, f'{dataset}.jsonl')

    def stats(self, model, dataset):
        return self._path('predictions', model, f'{dataset}.stats.json')

    def results(self, model, dataset):
        return self._path('results', model, f'{dataset}.json')

    @property
    def configs(self):
        return self._path('configs')

    @property
    def summary(self):
        return self._path('summary')

    @property
    def logs(self):
        return self._path('logs')
