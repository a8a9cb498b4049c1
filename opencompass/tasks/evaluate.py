"""The eval task: postprocess predictions, score them, write results with details.

A sample that failed (an API error) or has no prediction is scored as wrong and
counted in `failed`, so the score never silently covers fewer samples.
"""
import json
import os

from opencompass.registry import build_from_cfg, resolve_type
from opencompass.tasks.judge import JudgeContext, JudgePool
from opencompass.tasks.predictions import load_pair, write_atomic
from opencompass.utils.build import build_dataset, dataset_abbr, model_abbr


def _postprocessor(cfg):
    """A text -> text function from `dict(type=fn, **kwargs)` (or identity)."""
    if not cfg:
        return lambda text: text
    cfg = dict(cfg)
    fn = resolve_type(cfg.pop('type'), 'postprocessor')
    return lambda text: fn(text, **cfg)


def score(model_cfg, dataset_cfg, layout, judges=None):
    """Score one (model, dataset); returns and writes the results dict.
    `judges` (a JudgePool) serves a judged evaluator's judge model."""
    m_abbr, d_abbr = model_abbr(model_cfg), dataset_abbr(dataset_cfg)
    ds = build_dataset(dataset_cfg)
    records = load_pair(layout.pair_files(m_abbr, d_abbr))
    eval_cfg = dataset_cfg.get('eval_cfg') or {}
    pred_post = _postprocessor(model_cfg.get('pred_postprocessor') or
                               eval_cfg.get('pred_postprocessor'))
    ref_post = _postprocessor(eval_cfg.get('dataset_postprocessor'))
    ok = [i in records and not records[i].get('error') for i in range(len(ds.test))]
    raw = [records[i]['prediction'] if ok[i] else '' for i in range(len(ds.test))]
    preds = [pred_post(text) if good else '' for text, good in zip(raw, ok)]
    refs = [ref_post(r) if isinstance(r, str) else r for r in ds.references()]
    evaluator = build_from_cfg(eval_cfg.get('evaluator') or {'type': 'AccEvaluator'},
                               'evaluator')
    with JudgePool() as own_judges:
        if hasattr(evaluator, 'set_judge_context'):
            evaluator.set_judge_context(JudgeContext(
                judges or own_judges, layout.judge_log(m_abbr, d_abbr),
                frozenset(i for i, good in enumerate(ok) if not good),
                f'judge {m_abbr}/{d_abbr}'))
        result = evaluator.score(preds, refs, ds.test)
    details = result.pop('details', None) or [{} for _ in preds]
    result['num_samples'] = len(ds.test)
    # a failed judge call fails its sample like a failed prediction (-r redoes it)
    result['failed'] = ok.count(False) + result.get('judge_failed', 0)
    result['details'] = [
        {'idx': i, 'prediction': raw[i], **details[i],
         **_error(records.get(i, {}), ok[i], details[i])}
        for i in range(len(ds.test))]
    path = layout.results(m_abbr, d_abbr)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    write_atomic(path, json.dumps(result, ensure_ascii=False, indent=2))
    return result


def _error(record, ok, detail):
    """The `error` of a failed sample: its prediction's, or its judge's."""
    if not ok:
        return {'error': record.get('error', 'no prediction')}
    if detail.get('judge_error'):
        return {'error': f"judge: {detail['judge_error']}"}
    return {}
