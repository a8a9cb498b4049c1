"""Shards: contiguous slices of one (model, dataset) pair's samples.

A large dataset is split so several workers (local processes, or Slurm jobs on
several GPUs) predict it at once. Shard k of n covers the sample indices
`[start, stop)`; its predictions go to a file of its own, with the samples'
global indices, so evaluation merges the files of a pair in input order and a
resumed run with another shard count still finds every finished sample.
"""
import dataclasses


@dataclasses.dataclass(frozen=True)
class Shard:
    index: int
    count: int
    start: int
    stop: int

    @property
    def suffix(self):
        """'' for a whole dataset, '_<k>' for shard k (upstream's naming)."""
        return '' if self.count == 1 else f'_{self.index}'

    def __contains__(self, idx):
        return self.start <= idx < self.stop


def split(num_samples, count):
    """`count` shards of near-equal size over range(num_samples) (fewer when
    there are fewer samples; one empty shard for an empty dataset)."""
    count = max(1, min(int(count), num_samples))
    bounds = [round(k * num_samples / count) for k in range(count + 1)]
    return [Shard(k, count, bounds[k], bounds[k + 1]) for k in range(count)]


def whole(num_samples):
    return Shard(0, 1, 0, num_samples)
