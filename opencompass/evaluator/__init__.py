"""Evaluators that upstream configs import from `opencompass.evaluator`.

Rule-based (`MATHVerifyEvaluator`) and judged ones (`GenericLLMEvaluator`,
`CascadeEvaluator`, see docs/en/advanced_guides/llm_judge.md); each is
imported on first access, like the datasets.
"""
from opencompass.registry import lazy_exports

EVALUATORS = {
    'MATHVerifyEvaluator': 'opencompass.datasets.math:MATHVerifyEvaluator',
    'GenericLLMEvaluator':
    'opencompass.evaluator.generic_llm_evaluator:GenericLLMEvaluator',
    'CascadeEvaluator': 'opencompass.evaluator.cascade_evaluator:CascadeEvaluator',
}

__getattr__, __dir__, __all__ = lazy_exports(__name__, EVALUATORS, globals())
