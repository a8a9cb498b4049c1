"""A tiny GSM8K-format set that ships with the package.

45 original one- or two-step problems with small whole numbers (plus 8 few-shot
examples), easy enough that a ~135M model answers a fair share: a quick end-to-end
check of a backend that needs no download and still gives a non-zero score.
"""
import os

from opencompass.datasets.gsm8k import GSM8KDataset

DEMO_MATH_DIR = os.path.join(os.path.dirname(os.path.abspath(__file__)), 'data',
                             'demo_math')


class DemoMathDataset(GSM8KDataset):
    """GSM8KDataset whose `path` defaults to the packaged data (None or 'demo_math')."""

    @staticmethod
    def load(path=None, **kwargs):
        if path in (None, '', 'demo_math'):
            path = DEMO_MATH_DIR
        return GSM8KDataset.load(path, **kwargs)
