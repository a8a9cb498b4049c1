"""The infer task: render a dataset's prompts and predict the ones not done yet."""
import logging

from opencompass.errors import ConfigError
from opencompass.registry import build_from_cfg
from opencompass.tasks.predictions import (PredictionStore, _Writer, add_stats,
                                          done_indices)
from opencompass.tasks.shards import whole
from opencompass.utils.build import build_dataset, dataset_abbr, model_abbr

logger = logging.getLogger(__name__)


def _check_columns(ds, abbr):
    if not ds.test:
        raise ConfigError(f'dataset {abbr} has no test rows; check its path and '
                          'reader_cfg.test_range')
    missing = [c for c in ds.input_columns if c not in ds.test[0]]
    if missing:
        raise ConfigError(f'dataset {abbr}: input column(s) {missing} not in the '
                          f'data (columns: {sorted(ds.test[0])}); fix reader_cfg')


def render_prompts(dataset_cfg, ds):
    """(prompts, inferencer): one prompt per test row (a dict label -> prompt for
    perplexity datasets)."""
    infer_cfg = dataset_cfg.get('infer_cfg') or {}
    if 'inferencer' not in infer_cfg:
        raise ConfigError(f'dataset {dataset_abbr(dataset_cfg)} has no '
                          'infer_cfg.inferencer; add e.g. dict(type=GenInferencer)')
    ice_t = infer_cfg.get('ice_template')
    ice_t = build_from_cfg(ice_t, 'template') if ice_t else None
    tmpl = infer_cfg.get('prompt_template')
    tmpl = build_from_cfg(tmpl, 'template') if tmpl else ice_t
    if tmpl is None:
        raise ConfigError(f'dataset {dataset_abbr(dataset_cfg)} has no '
                          'prompt_template; add one to its infer_cfg')
    retriever = build_from_cfg(infer_cfg.get('retriever') or
                               {'type': 'ZeroRetriever'}, 'retriever')
    inferencer = build_from_cfg(infer_cfg['inferencer'], 'inferencer')
    _check_columns(ds, dataset_abbr(dataset_cfg))
    prompts = []
    for row, ice_ids in zip(ds.test, retriever.retrieve(ds)):
        ice = retriever.build_ice(ice_ids, ds.train, ice_t, ds.output_column)
        if inferencer.mode == 'ppl':
            if tmpl.labels is None:
                raise ConfigError(
                    f'dataset {dataset_abbr(dataset_cfg)}: a PPLInferencer needs '
                    'a prompt_template keyed by label, e.g. {"A": ..., "B": ...}')
            prompts.append({label: tmpl.render(row, ice, label=label)
                            for label in tmpl.labels})
        else:
            prompts.append(tmpl.render(row, ice, output_column=ds.output_column))
    return prompts, inferencer


def run_infer(model_cfg, dataset_cfg, layout, get_model, shard=None):
    """Predict what is missing for one (model, dataset), or for one shard of
    it; `get_model()` builds (or returns the already built) model only when
    there is work."""
    m_abbr, d_abbr = model_abbr(model_cfg), dataset_abbr(dataset_cfg)
    ds = build_dataset(dataset_cfg)
    prompts, inferencer = render_prompts(dataset_cfg, ds)
    shard = shard or whole(len(prompts))
    name = f'{m_abbr}/{d_abbr}{shard.suffix}'
    store = PredictionStore(layout.predictions(m_abbr, d_abbr, shard))
    done = done_indices(layout.pair_files(m_abbr, d_abbr))
    todo = [i for i in range(shard.start, min(shard.stop, len(prompts)))
            if i not in done]
    size = shard.stop - shard.start
    if not todo:
        logger.info('%s: all %d predictions exist', name, size)
        return
    if len(todo) < size:
        logger.warning('%s: resuming, %d of %d samples left', name, len(todo),
                       size)
    model = get_model()
    max_out_len = inferencer.max_out_len or model_cfg.get('max_out_len') or 512
    batch_size = inferencer.batch_size or model_cfg.get('batch_size') or 1
    golds = ds.references()
    stats = {}
    try:
        stats = inferencer.infer(model, prompts, todo, _Writer(store, golds),
                                 max_out_len, batch_size, desc=name)
    finally:
        store.compact()
        if stats:
            add_stats(layout.stats(m_abbr, d_abbr, shard), stats, store)
    model.report_truncation()
