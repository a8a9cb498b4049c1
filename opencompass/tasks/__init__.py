"""Tasks: infer tasks (one (model, dataset) pair, or a shard of one) write
predictions; eval tasks score them. Upstream's task type names
(`OpenICLInferTask`, `OpenICLEvalTask`) are importable from here."""
from opencompass.registry import RUNNERS, lazy_exports

_TABLE = {k: v for k, v in RUNNERS.items() if k.endswith('Task')}
__getattr__, __dir__, __all__ = lazy_exports(__name__, _TABLE, globals())
