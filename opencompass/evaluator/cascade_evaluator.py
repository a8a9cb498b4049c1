"""CascadeEvaluator: a rule first, the LLM judge for what the rule rejects.

As upstream: `rule_evaluator` (e.g. MATHVerifyEvaluator) or `sample_score_fn`
scores every sample; with `parallel=False` only the samples it found wrong go
to `llm_evaluator` (a GenericLLMEvaluator), with `parallel=True` (upstream's
default) every sample does. A sample is correct when the rule or the judge
says so; `accuracy` is their share of all samples, and `cascade_stats` says
how many each stage accepted.
"""
from opencompass.errors import ConfigError
from opencompass.evaluator.generic_llm_evaluator import postprocess_texts
from opencompass.openicl.icl_evaluator import BaseEvaluator
from opencompass.registry import build_from_cfg


def _build(cfg):
    return build_from_cfg(cfg, 'evaluator') if isinstance(cfg, dict) else cfg


class CascadeEvaluator(BaseEvaluator):

    def __init__(self, llm_evaluator, rule_evaluator=None, sample_score_fn=None,
                 parallel=True, **kwargs):
        super().__init__()
        self.llm_evaluator = _build(llm_evaluator)
        self.rule_evaluator = _build(rule_evaluator) if rule_evaluator else None
        self.sample_score_fn = sample_score_fn
        self.parallel = bool(parallel)
        if self.rule_evaluator is None and sample_score_fn is None:
            raise ConfigError('CascadeEvaluator needs rule_evaluator= or '
                              'sample_score_fn= (the rule it applies first)')

    def set_judge_context(self, ctx):
        self.llm_evaluator.set_judge_context(ctx)

    def rule_details(self, predictions, references, rows):
        """One detail per sample with `correct`, from the rule."""
        if self.sample_score_fn is not None and self.rule_evaluator is None:
            out = []
            for pred, ref, row in zip(predictions, references, rows):
                res = self.sample_score_fn(pred, ref, row)
                out.append(res if isinstance(res, dict) else
                           {'correct': bool(res), 'pred': pred, 'answer': ref})
            return out
        preds = postprocess_texts(
            getattr(self.rule_evaluator, 'pred_postprocessor', None),
            predictions)
        result = self.rule_evaluator.score(preds, references, rows)
        details = result.get('details')
        if isinstance(details, list) and len(details) == len(preds):
            return [dict(d) for d in details]
        return [self._one_by_one(p, r, row)
                for p, r, row in zip(preds, references, rows)]

    def _one_by_one(self, pred, ref, row):
        result = self.rule_evaluator.score([pred], [ref], [row])
        details = result.get('details') or []
        if details:
            return dict(details[0])
        return {'correct': result.get('accuracy', 0) > 0, 'pred': pred,
                'answer': ref}

    def score(self, predictions, references, test_set=None):
        n = len(predictions)
        rows = [dict(r) for r in test_set] if test_set is not None else []
        rows = rows if len(rows) == n else [{} for _ in range(n)]
        rule = self.rule_details(predictions, references, rows)
        send = [i for i in range(n)
                if self.parallel or not rule[i].get('correct')]
        llm = self.llm_evaluator.judge(
            send, [predictions[i] for i in send], [references[i] for i in send],
            [rows[i] for i in send]) if send else {'details': []}
        by_idx = dict(zip(send, llm['details']))
        details = []
        for i in range(n):
            detail = {'rule_evaluation': rule[i]}
            if i in by_idx:
                detail['llm_evaluation'] = by_idx[i]
                if 'judge_error' in by_idx[i]:
                    detail['judge_error'] = by_idx[i]['judge_error']
            detail['correct'] = bool(rule[i].get('correct')) or bool(
                by_idx.get(i, {}).get('correct'))
            details.append(detail)
        correct = sum(d['correct'] for d in details)
        rule_correct = sum(bool(r.get('correct')) for r in rule)
        llm_correct = sum(bool(d.get('correct')) for d in by_idx.values())
        return {
            'accuracy': 100 * correct / n if n else 0.0,
            'cascade_stats': {
                'total_samples': n, 'rule_correct': rule_correct,
                'llm_evaluated': len(send), 'llm_correct': llm_correct,
                'final_correct': correct, 'parallel_mode': self.parallel},
            'details': details,
            'judged': llm.get('judged', 0), 'unparsed': llm.get('unparsed', 0),
            'judge_failed': llm.get('judge_failed', 0)}
