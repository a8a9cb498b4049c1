"""Runners execute the infer tasks of a run: `LocalRunner` (in-process or
worker processes) and `SlurmRunner` (one Slurm job per task), imported on
first access."""
from opencompass.registry import RUNNERS, lazy_exports

_TABLE = {k: v for k, v in RUNNERS.items() if k.endswith('Runner')}
__getattr__, __dir__, __all__ = lazy_exports(__name__, _TABLE, globals())
