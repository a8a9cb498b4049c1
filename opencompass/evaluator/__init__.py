"""Evaluators that upstream configs import from `opencompass.evaluator`.

Only the rule-based ones exist here (`MATHVerifyEvaluator`); they are imported
on first access, like the datasets.
"""
from opencompass.registry import lazy_exports

EVALUATORS = {
    'MATHVerifyEvaluator': 'opencompass.datasets.math:MATHVerifyEvaluator',
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, EVALUATORS, globals())
