"""Dataset classes, postprocessors and evaluators, imported on first access (PEP 562).

`from opencompass.datasets import GSM8KDataset, gsm8k_postprocess` in a config
costs nothing until the name is used: it is looked up in
`opencompass.registry.DATASETS` and only then is its module imported.
"""
from opencompass.datasets.base import BaseDataset
from opencompass.registry import DATASETS, import_target

__all__ = sorted([*DATASETS, 'BaseDataset'])


def __getattr__(name):
    if name in DATASETS:
        value = import_target(DATASETS[name])
        globals()[name] = value
        return value
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return __all__
