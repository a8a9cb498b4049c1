"""Summaries of a run: one table, rows = dataset/version/metric/mode, a column per model."""
from opencompass.summarizers.default import summarize  # noqa: F401
