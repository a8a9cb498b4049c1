"""GenericLLMEvaluator: a judge model grades each prediction against the gold.

Upstream configs (e.g. math_prm800k_500_0shot_nocot_genericllmeval_gen_*)
build it with `prompt_template` (the judge's template: the dataset's columns
plus `{prediction}` and `{obj_gold}` / `{reference}`), `judge_cfg` (a model
dict, any backend), `dataset_cfg`, `pred_postprocessor` and
`dict_postprocessor` (e.g. `generic_llmjudge_postprocess`, which reads the
judge's A/B verdicts). The score is the share of samples judged correct; each
sample's details carry the judge prompt, the judge's reply, the parsed
verdict and whether it parsed.

In a run, the eval task hands the evaluator a `JudgeContext` (the run's
judges and the pair's judge log), so verdicts are kept as they arrive and
`-r` asks only for the missing ones. Used on its own, it builds its judge
from `judge_cfg` and keeps no log.
"""
import inspect

from opencompass.openicl.icl_evaluator import BaseEvaluator
from opencompass.registry import build_from_cfg, resolve_type
from opencompass.tasks.judge import JudgeContext, JudgePool, run_judge


def postprocess_texts(cfg, texts):
    """`texts` through a `dict(type=fn, **kwargs)` text postprocessor."""
    if not cfg:
        return list(texts)
    cfg = dict(cfg)
    fn = resolve_type(cfg.pop('type'), 'postprocessor')
    return [fn(text, **cfg) for text in texts]


def _details_list(details, n):
    """Details as a list in sample order (upstream returns a dict keyed by
    the sample's position as a string)."""
    if isinstance(details, dict):
        details = [details[k] for k in sorted(details, key=int)]
    details = list(details or [])
    return details if len(details) == n else [{} for _ in range(n)]


class GenericLLMEvaluator(BaseEvaluator):
    """Score predictions by an LLM judge's verdicts."""

    def __init__(self, prompt_template, judge_cfg=None, dataset_cfg=None,
                 pred_postprocessor=None, dict_postprocessor=None,
                 keep_predictions=False, **kwargs):
        super().__init__(pred_postprocessor)
        self.prompt_template = build_from_cfg(prompt_template, 'template')
        self.judge_cfg = dict(judge_cfg or {})
        self.dataset_cfg = dataset_cfg
        self.dict_postprocessor = dict_postprocessor
        self.judge_context = None

    def set_judge_context(self, ctx):
        self.judge_context = ctx

    # ---- the evaluator interface ------------------------------------------
    def score(self, predictions, references, test_set=None):
        rows = self._rows(test_set, len(predictions))
        return self.judge(list(range(len(predictions))), predictions,
                          references, rows)

    def pred_postprocess(self, predictions):
        return postprocess_texts(self.pred_postprocessor, predictions)

    # ---- judging ------------------------------------------------------------
    def judge(self, indices, predictions, references, rows):
        """Judge the samples `indices` (dataset positions, the judge log's
        keys) with their predictions, references and dataset rows; returns
        the result dict with one detail per given sample."""
        ctx = self.judge_context
        if ctx is None:
            with JudgePool() as pool:
                self.judge_context = JudgeContext(pool)
                try:
                    return self.judge(indices, predictions, references, rows)
                finally:
                    self.judge_context = None
        preds = self.pred_postprocess(predictions)
        prompts = {idx: self.render(row, pred, ref)
                   for idx, pred, ref, row in zip(indices, preds, references,
                                                  rows) if idx not in ctx.skip}
        records = run_judge(self.judge_cfg, prompts, ctx) if prompts else {}
        output = {str(k): {'origin_prompt': prompts.get(idx),
                           'prediction': records.get(idx, {}).get(
                               'judge_response', ''),
                           'gold': ref}
                  for k, (idx, ref) in enumerate(zip(indices, references))}
        result = self.output_postprocess(output, ctx.log_path or '')
        details = _details_list(result.get('details'), len(indices))
        for detail, idx in zip(details, indices):
            detail['judge_prompt'] = prompts.get(idx)
            detail['judged'] = idx in records and not records[idx].get('error')
            if records.get(idx, {}).get('error'):
                detail['judge_error'] = records[idx]['error']
        result['details'] = details
        result['judged'] = sum(d['judged'] for d in details)
        result['unparsed'] = sum(1 for d in details
                                 if d['judged'] and d.get('parsed') is False)
        result['judge_failed'] = sum('judge_error' in d for d in details)
        return result

    def render(self, row, prediction, reference):
        """The judge prompt of one sample: its row plus `prediction`,
        `obj_gold` and `reference` (the names upstream templates use)."""
        return self.prompt_template.render({
            **row, 'prediction': prediction, 'obj_gold': reference,
            'reference': reference})

    def output_postprocess(self, output, output_path=''):
        """The result dict from the judge's replies, through
        `dict_postprocessor` (default: generic_llmjudge_postprocess)."""
        from opencompass.datasets.generic import generic_llmjudge_postprocess
        cfg = dict(self.dict_postprocessor or {})
        fn = resolve_type(cfg.pop('type'), 'postprocessor') if cfg.get(
            'type') else generic_llmjudge_postprocess
        if 'dataset' in inspect.signature(fn).parameters:
            cfg.setdefault('dataset', None)
        return dict(fn(output, output_path, **cfg))

    def _rows(self, test_set, n):
        if test_set is None and self.dataset_cfg:
            from opencompass.utils.build import build_dataset
            test_set = build_dataset(dict(self.dataset_cfg)).test
        rows = [dict(r) for r in test_set] if test_set is not None else []
        return rows if len(rows) == n else [{} for _ in range(n)]
