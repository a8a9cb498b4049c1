"""Build models and datasets from their config dicts, and name them."""
import inspect
import logging
import os

from opencompass.errors import ConfigError, DataPathError
from opencompass.registry import build_from_cfg, resolve_type, type_name

logger = logging.getLogger(__name__)

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


# Sampling settings upstream configs give as top-level arguments (OpenAI's
# `temperature=`); here they belong in the class's sampling dict.
SAMPLING_ARGS = ('temperature', 'top_p', 'top_k')
SAMPLING_DICTS = ('generation_kwargs', 'gen_config')


def model_kwargs(cls, cfg):
    """The constructor arguments of `cls` from a model dict.

    Upstream OpenCompass configs pass arguments these classes do not take
    (`rpm_verbose`, `verbose`, `openai_proxy_url`, `concurrency`, ...). A
    sampling setting goes into the class's sampling dict; anything else is
    dropped with one warning that names it, never a TypeError. batch_size /
    max_out_len are passed only to constructors that name them (API models
    size their concurrency by them).
    """
    params = inspect.signature(cls.__init__).parameters
    kwargs = {k: v for k, v in cfg.items()
              if k not in RUN_FIELDS or (k in ('batch_size', 'max_out_len')
                                         and k in params)}
    if any(p.kind is p.VAR_KEYWORD for p in params.values()):
        return kwargs  # the class takes (and reports) extra fields itself
    target = next((d for d in SAMPLING_DICTS if d in params), None)
    ignored = []
    for key in [k for k in kwargs if k not in params]:
        value = kwargs.pop(key)
        if key in SAMPLING_ARGS and target:
            kwargs[target] = {key: value, **dict(kwargs.get(target) or {})}
        else:
            ignored.append(key)
    if ignored:
        logger.warning('%s does not use %s (accepted for OpenCompass config '
                       'compatibility, no effect here)', cls.__name__,
                       ', '.join(sorted(ignored)))
    missing = [n for n, p in params.items() if n != 'self' and p.default is
               p.empty and p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)
               and n not in kwargs]
    if missing:
        raise ConfigError(f'model {model_abbr(cfg)} ({cls.__name__}) needs '
                          f'{", ".join(missing)}=; add it to the model dict')
    return kwargs


def build_model(cfg):
    """`cfg['type'](**fields)`, with the fields the class takes (model_kwargs)."""
    cls = resolve_type(cfg['type'], 'model')
    return cls(**model_kwargs(cls, cfg))


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
