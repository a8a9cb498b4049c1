"""One validation pass over a resolved run, before anything is loaded.

Every field the framework reads from the models, the datasets and the command
line is checked for type and range here, so a typo in a config ends in one
line that names its place (`models[1].batch_size: expected a positive
integer, got 'x'`), exit 2, and never in a traceback halfway through a run.
Fields the framework does not read are left to the classes that take them.
"""
import re

from opencompass.errors import ConfigError
from opencompass.utils.build import dataset_abbr, model_abbr

_SLICE = re.compile(r'\s*\[\s*-?\d*\s*:?\s*-?\d*\s*\]\s*')


# ---- value checks: each returns None when fine, else what was expected -----
def _positive_int(v):
    ok = isinstance(v, int) and not isinstance(v, bool) and v > 0
    return None if ok else 'a positive integer'


def _non_negative_int(v):
    ok = isinstance(v, int) and not isinstance(v, bool) and v >= 0
    return None if ok else 'a non-negative integer'


def _positive_number(v):
    ok = isinstance(v, (int, float)) and not isinstance(v, bool) and v > 0
    return None if ok else 'a positive number'


def _text(v):
    return None if isinstance(v, str) and v else 'a non-empty string'


def _abbr(v):
    if isinstance(v, bool) or not isinstance(v, (str, int, float)) or str(v) == '':
        return 'a non-empty string'
    return None


def _mapping(v):
    return None if isinstance(v, dict) else 'a dict'


def _string_list(v):
    ok = isinstance(v, (list, tuple)) and all(isinstance(s, str) for s in v)
    return None if ok else 'a list of strings'


def _columns(v):
    return None if isinstance(v, str) or _string_list(v) is None else \
        'a column name or a list of column names'


def _slice_text(v):
    ok = isinstance(v, str) and _SLICE.fullmatch(v)
    return None if ok else "a slice such as '[0:50]'"


def _header_value(v):
    """API keys travel in an HTTP header: printable ASCII only (a list of
    keys, as OpenAI configs may give, is checked key by key)."""
    values = v if isinstance(v, (list, tuple)) else [v]
    if not values or not all(isinstance(s, str) for s in values):
        return 'a string'
    if not all(32 <= ord(c) < 127 for s in values for c in s):
        return 'printable ASCII characters only (it is sent in an HTTP header)'
    return None


def _url(v):
    values = v if isinstance(v, (list, tuple)) else [v]
    ok = values and all(isinstance(s, str) and re.match(r'https?://[^\s/]+', s)
                        for s in values)
    return None if ok else 'an http(s):// URL'


MODEL_FIELDS = {
    'abbr': _abbr, 'path': _text, 'batch_size': _positive_int,
    'max_out_len': _positive_int, 'max_seq_len': _positive_int,
    'min_out_len': _non_negative_int, 'generation_kwargs': _mapping,
    'model_kwargs': _mapping, 'tokenizer_kwargs': _mapping,
    'meta_template': _mapping, 'run_cfg': _mapping, 'stop_words': _string_list,
    'end_str': _text, 'key': _header_value, 'openai_api_base': _url,
    'query_per_second': _positive_number, 'concurrency': _positive_int,
    'retry': _non_negative_int, 'tokenizer_path': _text,
}
DATASET_FIELDS = {'abbr': _abbr, 'path': _text, 'reader_cfg': _mapping,
                  'infer_cfg': _mapping, 'eval_cfg': _mapping}
READER_FIELDS = {'input_columns': _columns, 'output_column': _text,
                 'test_range': _slice_text, 'train_range': _slice_text}
INFERENCER_FIELDS = {'max_out_len': _positive_int, 'batch_size': _positive_int,
                     'stopping_criteria': _string_list}
RUN_CFG_FIELDS = {'num_gpus': _non_negative_int, 'num_procs': _positive_int}
CLI_FIELDS = {'max_out_len': ('--max-out-len', _positive_int),
              'batch_size': ('--batch-size', _positive_int),
              'max_seq_len': ('--max-seq-len', _positive_int),
              'max_num_workers': ('--max-num-workers', _positive_int),
              'num_shards': ('--num-shards', _positive_int),
              'retry': ('--retry', _non_negative_int),
              'test_range': ('--test-range', _slice_text),
              'api_key': ('--api-key', _header_value),
              'api_base': ('--api-base', _url),
              'judge_api_key': ('--judge-api-key', _header_value),
              'judge_api_base': ('--judge-api-base', _url),
              'judge_max_out_len': ('--judge-max-out-len', _positive_int)}


def _fail(place, expected, value):
    shown = repr(value)
    if len(shown) > 80:
        shown = shown[:77] + '...'
    raise ConfigError(f'{place}: expected {expected}, got {shown}')


def _check_fields(place, cfg, table):
    for name, check in table.items():
        if name in cfg and cfg[name] is not None:
            expected = check(cfg[name])
            if expected:
                _fail(f'{place}.{name}', expected, cfg[name])


def _check_entry(place, cfg):
    if not isinstance(cfg, dict):
        _fail(place, 'a dict', cfg)
    if cfg.get('type') in (None, ''):
        raise ConfigError(f'{place} has no type; add type=... (a class or its '
                          'name), as in the shipped configs')


def validate_cli(args):
    for attr, (flag, check) in CLI_FIELDS.items():
        value = getattr(args, attr, None)
        if value is not None and check(value):
            _fail(flag, check(value), value)


def validate_model(place, model):
    _check_entry(place, model)
    _check_fields(place, model, MODEL_FIELDS)
    _check_fields(f'{place}.run_cfg', model.get('run_cfg') or {},
                  RUN_CFG_FIELDS)


def validate_models(models):
    for i, model in enumerate(models):
        validate_model(f'models[{i}]', model)
    _no_duplicates('models', [model_abbr(m) for m in models])


def validate_judges(judges):
    """The judge models of a run (see utils/judges.py), like models."""
    for judge in judges:
        validate_model(f'judge {model_abbr(judge)}', judge)


def validate_datasets(datasets):
    for i, dataset in enumerate(datasets):
        place = f'datasets[{i}]'
        _check_entry(place, dataset)
        _check_fields(place, dataset, DATASET_FIELDS)
        _check_fields(f'{place}.reader_cfg', dataset.get('reader_cfg') or {},
                      READER_FIELDS)
        infer = (dataset.get('infer_cfg') or {}).get('inferencer')
        if infer is not None:
            _check_entry(f'{place}.infer_cfg.inferencer', infer)
            _check_fields(f'{place}.infer_cfg.inferencer', infer,
                          INFERENCER_FIELDS)
    _no_duplicates('datasets', [dataset_abbr(d) for d in datasets])


def _no_duplicates(kind, abbrs):
    seen = set()
    for i, abbr in enumerate(abbrs):
        if abbr in seen:
            raise ConfigError(
                f'{kind}[{i}]: abbr {abbr!r} is used twice; every {kind[:-1]} '
                'needs its own abbr (their predictions would share one file)')
        seen.add(abbr)


def validate_run(models, datasets):
    """Check the models and the datasets; raise ConfigError on the first bad
    field."""
    validate_models(models)
    validate_datasets(datasets)
