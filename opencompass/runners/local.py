"""The local runner: infer every (model, dataset) pair, then score them all.

In-process by default: each model is built once, used for all its datasets, then
closed. With `max_workers > 1`, each pair runs in its own worker process (spawned,
so CUDA and engine state never leak between tasks).
"""
import concurrent.futures as cf
import logging
import multiprocessing

from opencompass.tasks.evaluate import score
from opencompass.tasks.infer import run_infer
from opencompass.tasks.layout import RunLayout
from opencompass.utils.build import build_model

logger = logging.getLogger(__name__)


def _infer_model(model_cfg, datasets, layout):
    """All datasets of one model; the model is built at most once."""
    built = []

    def get_model():
        if not built:
            built.append(build_model(model_cfg))
        return built[0]

    try:
        for dataset_cfg in datasets:
            run_infer(model_cfg, dataset_cfg, layout, get_model)
    finally:
        if built:
            built[0].close()


def _infer_pair(model_cfg, dataset_cfg, root):
    _infer_model(model_cfg, [dataset_cfg], RunLayout(root))


def infer_all(models, datasets, layout, max_workers=1):
    if max_workers <= 1:
        for model_cfg in models:
            _infer_model(model_cfg, datasets, layout)
        return
    ctx = multiprocessing.get_context('spawn')
    with cf.ProcessPoolExecutor(max_workers, mp_context=ctx) as pool:
        futures = [pool.submit(_infer_pair, m, d, layout.root)
                   for m in models for d in datasets]
        for future in cf.as_completed(futures):
            future.result()


def eval_all(models, datasets, layout):
    return {(m.get('abbr'), d.get('abbr')): score(m, d, layout)
            for m in models for d in datasets}
