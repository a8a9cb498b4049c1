"""An OpenCompass-compatible LLM evaluator whose inference backend is one flag away.

Importing this package is cheap on purpose: no torch, no engine. Model classes and
engines are imported when a model is built (see ``opencompass.models``).
"""
__version__ = '0.1.0'
