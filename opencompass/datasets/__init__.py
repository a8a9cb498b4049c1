"""Dataset classes, postprocessors and evaluators, imported on first access (PEP 562).

`from opencompass.datasets import GSM8KDataset, gsm8k_postprocess` in a config
costs nothing until the name is used: it is looked up in
`opencompass.registry.DATASETS` and only then is its module imported.
"""
from opencompass.datasets.base import BaseDataset  # noqa: F401
from opencompass.registry import DATASETS, lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, DATASETS, globals(),
                                             extra=['BaseDataset'])
