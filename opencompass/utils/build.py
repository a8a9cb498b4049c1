"""Build models and datasets from their config dicts, and name them."""
import inspect
import os

from opencompass.errors import DataPathError
from opencompass.registry import build_from_cfg, resolve_type, type_name

# Fields of a model dict that describe the run, not the model's constructor.
RUN_FIELDS = ('type', 'abbr', 'run_cfg', 'summarizer_abbr', 'pred_postprocessor',
              'min_out_len', 'batch_size', 'max_out_len')


def model_abbr(cfg):
    if cfg.get('abbr'):
        return str(cfg['abbr'])
    path = str(cfg.get('path') or type_name(cfg.get('type')))
    return os.path.basename(path.rstrip('/')).replace('://', '-') or 'model'


def dataset_abbr(cfg):
    if cfg.get('abbr'):
        return str(cfg['abbr'])
    path = cfg.get('path') or type_name(cfg.get('type'))
    return os.path.basename(str(path).rstrip('/'))


def build_model(cfg):
    """`cfg['type'](**fields)`; batch_size / max_out_len are passed only to
    constructors that name them (API models size their concurrency by them)."""
    cls = resolve_type(cfg['type'], 'model')
    params = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in cfg.items()
              if k not in RUN_FIELDS or (k in ('batch_size', 'max_out_len')
                                         and k in params)}
    return cls(**kwargs)


def build_dataset(cfg):
    keep = {k: v for k, v in cfg.items()
            if k not in ('infer_cfg', 'eval_cfg', 'type')}
    try:
        return build_from_cfg({'type': cfg['type'], **keep}, 'dataset')
    except UnicodeDecodeError as err:  # any loader, any file
        raise DataPathError(
            f'dataset {dataset_abbr(cfg)}: a data file under {cfg.get("path")!r} '
            f'is not UTF-8 text ({err.reason} at byte {err.start}); convert it '
            'to UTF-8') from None
