"""Prompt templates, retrievers, inferencers and evaluators, imported on first use.

`from opencompass.openicl import AccEvaluator` looks the name up in
`opencompass.registry.OPENICL` and imports only the module holding it (PEP 562).
"""
from opencompass.registry import OPENICL, lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, OPENICL, globals())
