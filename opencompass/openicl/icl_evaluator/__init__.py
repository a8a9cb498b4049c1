"""Evaluators: turn (predictions, references) into a metrics dict.

Every evaluator returns `{'accuracy': percent, 'details': [...]}` (or
`{'error': ...}`), so the eval task and the summarizer handle all of them alike.
"""


class BaseEvaluator:
    """Interface: `score(predictions, references, test_set=None) -> dict`.

    `pred_postprocessor` is accepted because OpenCompass configs may pass it;
    the eval task applies postprocessors before calling `score`.
    """

    def __init__(self, pred_postprocessor=None):
        self.pred_postprocessor = pred_postprocessor

    def score(self, predictions, references, test_set=None):
        raise NotImplementedError


class AccEvaluator(BaseEvaluator):
    """Exact match after `str().strip()` (labels such as 'A' from PPL inference)."""

    def score(self, predictions, references, test_set=None):
        if len(predictions) != len(references):
            return {'error': 'predictions and references have different length'}
        details = []
        for pred, ref in zip(predictions, references):
            details.append({'pred': pred, 'answer': ref,
                            'correct': str(pred).strip() == str(ref).strip()})
        correct = sum(d['correct'] for d in details)
        accuracy = 100 * correct / len(details) if details else 0.0
        return {'accuracy': accuracy, 'details': details}


class AccwithDetailsEvaluator(AccEvaluator):
    """Accuracy with one detail per sample (prediction, gold, correct).

    OpenCompass keeps this name for evaluators whose per-sample details are
    wanted in the results; every evaluator here writes them, so it scores
    exactly like AccEvaluator.
    """
