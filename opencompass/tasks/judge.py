"""Running an LLM judge over rendered judge prompts, resumably.

The judge is an ordinary model (any backend, built from its dict), asked the
way inference asks: `generate_iter` in batches (an API judge keeps
`batch_size` requests in flight), each verdict written to the pair's judge
log as it arrives. A judge built once serves every (model, dataset) pair of
the run (`JudgePool`), and is closed when scoring ends.
"""
import dataclasses
import json
import logging
from typing import FrozenSet, Optional

from opencompass.errors import ConfigError
from opencompass.tasks.judge_log import JudgeLog
from opencompass.utils.build import build_model, model_abbr
from opencompass.utils.config import config_hash, normalize_types
from opencompass.utils.progress import progress_bar

logger = logging.getLogger(__name__)
DEFAULT_JUDGE_MAX_OUT_LEN = 512


class JudgePool:
    """Judge models by config, each built on first use and kept for the run."""

    def __init__(self):
        self._models = {}

    def get(self, judge_cfg):
        key = json.dumps(normalize_types(judge_cfg), sort_keys=True, default=str)
        if key not in self._models:
            logger.info('building the judge %s', model_abbr(judge_cfg))
            self._models[key] = build_model(judge_cfg)
        return self._models[key]

    def close(self):
        for model in self._models.values():
            model.close()
        self._models.clear()

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()


@dataclasses.dataclass
class JudgeContext:
    """What an evaluator needs from the run to judge one (model, dataset):
    where verdicts are logged (None: not kept), the shared judges, and the
    samples not to judge (no prediction: scored wrong without asking)."""

    pool: JudgePool
    log_path: Optional[str] = None
    skip: FrozenSet[int] = frozenset()
    desc: str = 'judge'


def judge_id(judge_cfg):
    """The judge's name in its verdicts: its abbr and a hash of what decides
    its answers (not batch size, retries or keys), so `-r` with another
    judge, or the same one decoding otherwise, judges again."""
    from opencompass.tasks.run_identity import NEUTRAL_MODEL_FIELDS
    from opencompass.utils.secrets import is_secret_name
    kept = {k: v for k, v in judge_cfg.items()
            if k not in NEUTRAL_MODEL_FIELDS and not is_secret_name(k)}
    return f'{model_abbr(judge_cfg)}#{config_hash(kept)}'


def check_judge(judge_cfg, where='the evaluator'):
    if not judge_cfg or not judge_cfg.get('type'):
        raise ConfigError(
            f'{where} needs a judge model and has none; set judge_cfg in the '
            'evaluator or judge_models in the config, or pass --judge-hf-path '
            'or --judge-api-base (see docs/en/advanced_guides/llm_judge.md)')


def run_judge(judge_cfg, prompts, ctx):
    """idx -> record ({'judge_response'} or {'error'}) for every idx of
    `prompts` (idx -> judge prompt). Verdicts logged earlier for the same
    judge and prompt are reused; the rest are asked now and logged."""
    check_judge(judge_cfg)
    judge = judge_id(judge_cfg)
    log = JudgeLog(ctx.log_path) if ctx.log_path else None
    records = log.reusable(judge, prompts) if log else {}
    todo = [i for i in sorted(prompts) if i not in records]
    if not todo:
        if prompts:
            logger.info('%s: all %d verdicts exist', ctx.desc, len(prompts))
        return records
    if records:
        logger.warning('%s: resuming, %d of %d verdicts left', ctx.desc,
                       len(todo), len(prompts))
    model = ctx.pool.get(judge_cfg)
    max_out_len = judge_cfg.get('max_out_len') or DEFAULT_JUDGE_MAX_OUT_LEN
    batch_size = judge_cfg.get('batch_size') or 1
    try:
        with progress_bar(len(todo), ctx.desc) as bar:
            for j, gen in model.generate_iter([prompts[i] for i in todo],
                                              max_out_len, batch_size):
                idx = todo[j]
                if log:
                    log.write_verdict(idx, judge, prompts[idx], gen)
                records[idx] = ({'error': gen.error} if gen.error else
                                {'judge_response': gen.text})
                bar.update(1, None)
    finally:
        if log:
            log.compact()
    failed = sum(1 for r in records.values() if r.get('error'))
    if failed:
        logger.warning('%s: %d judge call(s) failed (scored as wrong; judged '
                       'again by -r)', ctx.desc, failed)
    return records
