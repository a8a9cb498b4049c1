"""Infer tasks: one (model, dataset, shard) each, the unit every runner runs.

`plan` turns the run's models and datasets into tasks (sharded by the
partitioner); `execute` runs one task in the current process, which is what a
local worker process and a Slurm job both do (a Slurm job through
`python -m opencompass.tasks.run_task TASK_FILE`), so a task behaves the same
wherever it runs.
"""
import dataclasses
import os
from typing import Optional, Tuple

from opencompass.tasks.shards import Shard, split
from opencompass.utils.build import build_dataset, dataset_abbr, model_abbr


@dataclasses.dataclass
class InferTask:
    model: dict
    dataset: dict
    shard: Optional[Shard]
    root: str
    devices: Tuple[int, ...] = ()

    @property
    def name(self):
        suffix = self.shard.suffix if self.shard else ''
        return f'{model_abbr(self.model)}/{dataset_abbr(self.dataset)}{suffix}'

    @property
    def num_gpus(self):
        return int((self.model.get('run_cfg') or {}).get('num_gpus', 0) or 0)


def plan(models, datasets, root, partitioner=None):
    """Every task of a run, model by model (shards of a pair in order)."""
    sizes = {}
    tasks = []
    for model in models:
        for dataset in datasets:
            count = 1
            if partitioner is not None:
                key = dataset_abbr(dataset)
                if key not in sizes:
                    sizes[key] = len(build_dataset(dataset).test)
                count = partitioner.num_shards(sizes[key])
            shards = split(sizes[dataset_abbr(dataset)], count) if count > 1 \
                else [None]
            tasks.extend(InferTask(model, dataset, s, root) for s in shards)
    return tasks


def execute(task, get_model=None):
    """Run one task here; `get_model` lets an in-process runner share one
    built model across the tasks of a model."""
    from opencompass.tasks.infer import run_infer
    from opencompass.tasks.layout import RunLayout
    from opencompass.utils.build import build_model
    if task.devices:
        os.environ['CUDA_VISIBLE_DEVICES'] = ','.join(map(str, task.devices))
    built = []

    def own_model():
        if not built:
            built.append(build_model(task.model))
        return built[0]

    try:
        run_infer(task.model, task.dataset, RunLayout(task.root),
                  get_model or own_model, task.shard)
    finally:
        if built:
            built[0].close()
