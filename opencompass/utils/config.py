"""Configs: read Python config files (mmengine, `read_base()`), pick config files
by name (`--models/--datasets`), build a model dict from `--hf-path`, and turn
every `type=` into a plain string so configs dump, hash and pickle cleanly."""
import difflib
import glob
import hashlib
import json
import os

from opencompass.errors import ConfigError, UnknownNameError
from opencompass.registry import REGISTRY, type_name


def package_configs():
    """The configs shipped inside the package (`opencompass.configs`): the
    source of truth for model and dataset configs."""
    return os.path.join(os.path.dirname(os.path.dirname(os.path.abspath(
        __file__))), 'configs')


def config_roots():
    """Where `--models NAME` / `--datasets NAME` look: ./configs (the user's
    own), then `opencompass/configs`."""
    roots = [os.path.abspath('configs'), package_configs()]
    return list(dict.fromkeys(r for r in roots if os.path.isdir(r)))


def load_config(path):
    """The mmengine Config of `path`, with user-fixable failures as ConfigError.

    Every lazily imported name is resolved here, so a mistyped import fails at
    load time (also under --dry-run) with one line naming it and its nearest
    existing spellings (see config_errors)."""
    from mmengine.config import Config

    from opencompass.utils import config_errors, mmengine_compat
    if not os.path.isfile(path):
        raise ConfigError(f'config file {path} does not exist; give the path of a '
                          'Python config such as configs/eval_demo.py')
    mmengine_compat.apply()
    try:
        cfg = Config.fromfile(path, format_python_code=False)
    except Exception as err:  # SyntaxError, NameError, ImportError in the file
        line = config_errors.explain(err, path)
        if line:
            raise ConfigError(line) from None
        reason = ' '.join(str(err).split())[:300]
        raise ConfigError(f'config {path} cannot be read: {type(err).__name__}: '
                          f'{reason}; fix the file and try again') from None
    line = config_errors.check_lazy_imports(
        list(dict.values(cfg._cfg_dict)))
    if line:
        raise ConfigError(line)
    return cfg


def _collect(cfg, kind):
    """`models` / `datasets` of a config, or every `*_models` / `*_datasets`."""
    if kind in cfg:
        value = cfg[kind]
        if not isinstance(value, (list, tuple)):
            raise ConfigError(f'{kind}: expected a list of {kind[:-1]} dicts, got '
                              f'{type(value).__name__}; write {kind} = [dict(...)]')
        return list(value)
    items = []
    for key, value in cfg.items():
        if key.endswith('_' + kind) and isinstance(value, (list, tuple)):
            items.extend(value)
    return items


def find_named_configs(kind, names):
    """Model or dataset dicts from config files under <root>/<kind>/ by stem."""
    files = {}
    for root in config_roots():
        for path in glob.glob(os.path.join(root, kind, '**', '*.py'),
                              recursive=True):
            files.setdefault(os.path.splitext(os.path.basename(path))[0], path)
    items = []
    for name in names:
        stem = os.path.splitext(os.path.basename(name))[0]
        if stem not in files:
            close = difflib.get_close_matches(stem, list(files), n=5, cutoff=0.4)
            hint = ('; close matches: ' + ', '.join(close)) if close else (
                f'; see the files under opencompass/configs/{kind}/')
            raise UnknownNameError(f'no {kind[:-1]} config named {name!r}{hint}')
        found = _collect(load_config(files[stem]), kind)
        if not found:
            raise ConfigError(f'{files[stem]} defines no {kind} list')
        items.extend(found)
    return items


def hf_model_from_args(args):
    """A HF model dict built from --hf-path and friends."""
    kind = getattr(args, 'hf_type', 'chat') or 'chat'
    type_ = 'HuggingFacewithChatTemplate' if kind == 'chat' else 'HuggingFaceBaseModel'
    abbr = os.path.basename(args.hf_path.rstrip('/')).replace('embedded://', '')
    model = dict(type=type_, abbr=f'{abbr}-hf', path=args.hf_path,
                 max_out_len=args.max_out_len or 256,
                 batch_size=args.batch_size or 8, run_cfg=dict(num_gpus=1))
    if getattr(args, 'tokenizer_path', None):
        model['tokenizer_path'] = args.tokenizer_path
    if getattr(args, 'max_seq_len', None):
        model['max_seq_len'] = args.max_seq_len
    return model


def normalize_types(obj):
    """A deep copy of `obj` with every class or function value under a `type`
    key replaced by its registered short name, or its dotted path."""
    if isinstance(obj, dict):
        return {k: (_type_string(v) if k == 'type' else normalize_types(v))
                for k, v in obj.items()}
    if isinstance(obj, (list, tuple)):
        return [normalize_types(v) for v in obj]
    return obj


def _type_string(value):
    if isinstance(value, str):
        return value
    name = type_name(value)
    module = getattr(value, '__module__', None)
    if name in REGISTRY and module and REGISTRY[name].split(':')[0] == module:
        return name
    if name in REGISTRY and module and module.startswith('opencompass.'):
        return name  # an alias such as HuggingFace = HuggingFaceBaseModel
    return f'{module}.{getattr(value, "__qualname__", name)}' if module else name


def config_hash(cfg):
    """A short stable hash of a (normalized) config: the 'version' column."""
    text = json.dumps(normalize_types(cfg), sort_keys=True, default=str)
    return hashlib.md5(text.encode()).hexdigest()[:6]
