"""Partitioners: how many shards each (model, dataset) pair is split into.

The names and arguments are upstream OpenCompass's, so an `infer` section such
as `partitioner=dict(type=NumWorkerPartitioner, num_worker=8)` works as is:

- `NaivePartitioner`: one task per pair (no sharding);
- `NumWorkerPartitioner(num_worker=N)`: every pair in N shards;
- `SizePartitioner(max_task_size=S)`: shards of at most S samples. (Upstream
  weighs samples by an estimated prompt cost; here a sample counts as 1, so
  the shards of one pair are equal and the count is predictable.)
"""
import logging
import math

logger = logging.getLogger(__name__)


class NaivePartitioner:

    def __init__(self, n=1, **kwargs):
        _ignore(self, kwargs)

    def num_shards(self, num_samples):
        return 1


class NumWorkerPartitioner:

    def __init__(self, num_worker=8, min_task_size=16, **kwargs):
        self.num_worker = int(num_worker)
        self.min_task_size = int(min_task_size)
        _ignore(self, kwargs)

    def num_shards(self, num_samples):
        """As upstream: no split up to min_task_size samples; else shards of
        max(ceil(n / num_worker), min_task_size) samples."""
        if num_samples <= self.min_task_size:
            return 1
        step = max(math.ceil(num_samples / self.num_worker), self.min_task_size)
        return math.ceil(num_samples / step)


class SizePartitioner:

    def __init__(self, max_task_size=40000, gen_task_coef=20, **kwargs):
        self.max_task_size = int(max_task_size)
        _ignore(self, dict(kwargs, gen_task_coef=gen_task_coef)
                if gen_task_coef != 20 else kwargs)

    def num_shards(self, num_samples):
        return max(1, math.ceil(num_samples / self.max_task_size))


def _ignore(partitioner, kwargs):
    """Upstream arguments with no meaning here (out_dir, strategy, ...)."""
    kwargs = {k: v for k, v in kwargs.items()
              if k not in ('out_dir', 'type', 'strategy', 'dataset_size_path',
                           'keep_keys')}
    if kwargs:
        logger.warning('%s: ignoring %s (no effect in this runner)',
                       type(partitioner).__name__, ', '.join(sorted(kwargs)))
