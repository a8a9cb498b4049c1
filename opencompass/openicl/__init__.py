"""Prompt templates, retrievers, inferencers and evaluators, imported on first use.

`from opencompass.openicl import AccEvaluator` looks the name up in
`opencompass.registry.OPENICL` and imports only the module holding it (PEP 562).
"""
from opencompass.registry import OPENICL, import_target

__all__ = sorted(OPENICL)


def __getattr__(name):
    if name in OPENICL:
        value = import_target(OPENICL[name])
        globals()[name] = value
        return value
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return __all__
