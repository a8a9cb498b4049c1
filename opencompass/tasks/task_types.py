"""Upstream's task type names, for configs that spell out a runner's task:
`runner=dict(type=LocalRunner, task=dict(type=OpenICLInferTask))`. Here the
infer task and the eval task are fixed (tasks/infer_task.py, tasks/evaluate.py),
so these names only have to exist and say what they stand for."""


class OpenICLInferTask:
    """Inference: predictions of one (model, dataset[, shard])."""

    name = 'infer'


class OpenICLEvalTask:
    """Evaluation: scores of one (model, dataset), run after all shards."""

    name = 'eval'
