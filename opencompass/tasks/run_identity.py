"""What a run's predictions depend on, kept in the run folder for `-r`.

A resumed run appends to the predictions it finds, so resuming with another
model, prompt, `max_out_len` or generation setting would mix two settings in
one result. Each run saves the prediction-relevant part of its resolved config
(`configs/identity.json`); `-r` compares it with the config at hand, refuses a
run folder that differs (naming the first differences), and without a stamp
picks the newest folder of the *same* config rather than the newest folder.
Adding models or datasets to a run is allowed: they are predicted from scratch.
"""
import json
import os

from opencompass.errors import ConfigError
from opencompass.tasks.layout import RunLayout
from opencompass.tasks.predictions import write_atomic
from opencompass.utils.build import dataset_abbr, model_abbr
from opencompass.utils.config import normalize_types
from opencompass.utils.secrets import is_secret_name, redact

IDENTITY_FILE = 'identity.json'
# Fields that change how fast or where a model runs, or how predictions are
# scored afterwards, never what is predicted.
NEUTRAL_MODEL_FIELDS = frozenset({
    'batch_size', 'run_cfg', 'query_per_second', 'rpm_verbose', 'retry',
    'max_retries', 'concurrency', 'timeout', 'request_timeout', 'verbose',
    'summarizer_abbr', 'pred_postprocessor', 'prompt_overflow_log'})
NEUTRAL_DATASET_FIELDS = frozenset({'eval_cfg'})


def _canonical(cfg, neutral):
    kept = {k: v for k, v in cfg.items()
            if k not in neutral and not is_secret_name(k)}
    return json.loads(json.dumps(redact(normalize_types(kept)), sort_keys=True,
                                 default=str))


def identity(models, datasets):
    """The prediction-relevant config of a run, keyed by abbr."""
    return {'models': {model_abbr(m): _canonical(m, NEUTRAL_MODEL_FIELDS)
                       for m in models},
            'datasets': {dataset_abbr(d): _canonical(d, NEUTRAL_DATASET_FIELDS)
                         for d in datasets}}


def _flatten(value, prefix=''):
    if isinstance(value, dict):
        out = {}
        for k, v in value.items():
            out.update(_flatten(v, f'{prefix}.{k}' if prefix else str(k)))
        return out or {prefix: {}}
    return {prefix: value}


def differences(saved, now):
    """'models[x].max_out_len: 256 in the run, 512 now' for every setting of a
    model or dataset present in both that differs."""
    diffs = []
    for kind in ('models', 'datasets'):
        for abbr in sorted(set(saved.get(kind, {})) & set(now.get(kind, {}))):
            old, new = _flatten(saved[kind][abbr]), _flatten(now[kind][abbr])
            for key in sorted(set(old) | set(new)):
                if old.get(key) != new.get(key):
                    diffs.append(f'{kind}[{abbr!r}].{key}: {_show(old, key)} in '
                                 f'the run, {_show(new, key)} now')
    return diffs


def _show(flat, key):
    if key not in flat:
        return 'unset'
    text = json.dumps(flat[key], ensure_ascii=False)
    return text if len(text) <= 60 else text[:57] + '...'


def _overlaps(saved, now):
    return all(set(saved.get(k, {})) & set(now.get(k, {}))
               for k in ('models', 'datasets'))


def load_identity(layout):
    try:
        with open(os.path.join(layout.configs, IDENTITY_FILE),
                  encoding='utf-8') as f:
            saved = json.load(f)
        return saved if isinstance(saved, dict) else None
    except (OSError, ValueError):
        return None


def save_identity(layout, ident):
    """Record `ident`, merged into what the run already holds."""
    saved = load_identity(layout) or {}
    for kind in ('models', 'datasets'):
        saved.setdefault(kind, {}).update(ident[kind])
    os.makedirs(layout.configs, exist_ok=True)
    write_atomic(os.path.join(layout.configs, IDENTITY_FILE),
                 json.dumps(saved, indent=1, ensure_ascii=False))


def _refuse(layout, diffs):
    more = f' (and {len(diffs) - 2} more)' if len(diffs) > 2 else ''
    raise ConfigError(
        f'cannot resume run {layout.stamp}: its config differs in '
        f'{"; ".join(diffs[:2])}{more}; resuming would mix two settings in one '
        'result: leave out -r to start a new run, or restore the setting')


def find_resumable(work_dir, stamp, ident):
    """The run folder `-r [STAMP]` should resume, or None when there is no
    run to resume; ConfigError when the named (or every) run differs."""
    if stamp:
        layout = RunLayout(os.path.join(work_dir, stamp))
        if not os.path.isdir(layout.root):
            raise ConfigError(f'no run {stamp} under {work_dir}; drop the stamp '
                              'after -r to resume the latest run')
        saved = load_identity(layout)
        if saved is None:
            raise ConfigError(
                f'run {stamp} has no record of its config (it stopped before it '
                'started, or an older version made it); leave out -r to start a '
                'new run')
        diffs = differences(saved, ident)
        if diffs:
            _refuse(layout, diffs)
        return layout
    first_mismatch = None
    for name in RunLayout.runs(work_dir):
        layout = RunLayout(os.path.join(work_dir, name))
        saved = load_identity(layout)
        if saved is None or not _overlaps(saved, ident):
            continue  # a stub or a run of another config
        diffs = differences(saved, ident)
        if not diffs:
            return layout
        first_mismatch = first_mismatch or (layout, diffs)
    if first_mismatch:
        _refuse(*first_mismatch)
    return None
