"""`MATHEvaluator` where upstream configs import it from:
`from opencompass.openicl.icl_evaluator.math_evaluator import MATHEvaluator`.
The one implementation lives with the MATH dataset (opencompass.datasets.math).
"""
from opencompass.datasets.math import MATHEvaluator  # noqa: F401
