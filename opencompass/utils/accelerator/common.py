"""What every accelerator converter shares: the fate of each HF field, the
normalized generation kwargs, and the fields all backends carry the same way.

The converters themselves live one module per backend next to this one; the
table that picks them and `change_accelerator` are in opencompass/utils/run.py.
"""
import copy
import dataclasses
import logging
import os

from opencompass.errors import OpenCompassError
from opencompass.utils.fastchat_templates import fastchat_format, fastchat_name

logger = logging.getLogger('opencompass.utils.run')

# ---- what each HF field means to an engine ---------------------------------
# model_kwargs: from_pretrained arguments. These only place/load weights in
# transformers; an engine decides them itself (dtype 'auto' = the checkpoint's).
HF_ONLY_MODEL_KWARGS = frozenset({
    'device_map', 'torch_dtype', 'dtype', 'low_cpu_mem_usage',
    'attn_implementation', '_attn_implementation', 'use_flash_attention_2',
    'use_cache', 'cache_dir', 'local_files_only', 'token', 'use_auth_token',
    'offload_folder', 'offload_state_dict', 'max_memory', 'device'})
# model_kwargs an engine can take (under its own name, see the converters).
CARRIED_MODEL_KWARGS = frozenset({'trust_remote_code', 'revision'})
# tokenizer kwargs that only shape transformers' padded batches.
HF_ONLY_TOKENIZER_KWARGS = frozenset({'padding_side', 'truncation_side'})
# generation kwargs that only steer transformers' generate() plumbing.
HF_ONLY_GENERATION_KWARGS = frozenset({
    'pad_token_id', 'bos_token_id', 'use_cache', 'return_dict_in_generate',
    'output_scores', 'output_logits', 'output_attentions',
    'output_hidden_states', 'synced_gpus', 'streamer'})
# generation kwargs carried only at their default value (else refused).
DEFAULT_ONLY_GENERATION_KWARGS = {'num_beams': 1, 'num_return_sequences': 1}
# top-level HF fields that are padding/batching details of transformers.
HF_ONLY_FIELDS = frozenset({'pad_token_id', 'batch_padding', 'peft_kwargs'})
# top-level HF fields carried only at their default value (else refused):
# middle truncation has no engine equivalent.
DEFAULT_ONLY_FIELDS = {'mode': 'none', 'drop_middle': False}
# a named FastChat format: carried as the equivalent meta_template
FASTCHAT_FIELDS = ('fastchat_template', 'use_fastchat_template')
# model_kwargs that set the context length (MPT-style configs)
CONTEXT_MODEL_KWARGS = frozenset({'max_seq_len'})
# fields the framework itself reads; every backend keeps them as they are.
FRAMEWORK_FIELDS = ('summarizer_abbr', 'pred_postprocessor', 'pred_role')
# every other field a converter reads (anything else is dropped with a warning,
# as the HF classes themselves ignore unknown arguments with a warning).
KNOWN_FIELDS = frozenset({
    'type', 'abbr', 'path', 'model_kwargs', 'tokenizer_path',
    'tokenizer_kwargs', 'peft_path', 'generation_kwargs', 'max_seq_len',
    'max_out_len', 'batch_size', 'meta_template', 'end_str', 'stop_words',
    'tokenizer_only', 'run_cfg', *FASTCHAT_FIELDS}) | HF_ONLY_FIELDS | set(
        DEFAULT_ONLY_FIELDS) | set(FRAMEWORK_FIELDS)


@dataclasses.dataclass(frozen=True)
class Options:
    """CLI options some converters need (only the OpenAI one, today)."""

    api_base: str = None
    api_key: str = None
    api_model: str = None
    server_type: str = None


# ---- shared helpers ---------------------------------------------------------
def refuse(model, backend, what, hint):
    """Stop with a message naming the setting, the backend and the way out."""
    target = f'the {backend} backend' if backend else 'another backend'
    raise OpenCompassError(
        f"model {model.get('abbr') or model.get('path')!r}: {what} cannot be "
        f'carried to {target}; {hint}')


def update_abbr(model, backend):
    """`-hf` becomes `-<backend>`; otherwise the suffix is appended, so the
    results of two backends never share a name."""
    abbr = model.get('abbr')
    if not abbr:
        abbr = os.path.basename(str(model.get('path') or 'model').rstrip('/'))
    if abbr.endswith('-hf'):
        return abbr[:-len('-hf')] + f'-{backend}'
    return f'{abbr}-{backend}'


def copy_optional_fields(src, dst, fields):
    """Copy the fields `src` has (deep copies): a field never set stays unset,
    so the target class keeps its own default."""
    for field in fields:
        if src.get(field) is not None:
            dst[field] = copy.deepcopy(src[field])
    return dst


def as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in as_list(item)]
    return [value]


def extract_generation_kwargs(model):
    """Normalize HF generation kwargs once, for every converter.

    Greedy unless `do_sample` is true (OpenCompass's HF models turn sampling
    off by default): greedy gives temperature 0 and drops top_p/top_k, which
    transformers ignores when not sampling. Token ids (`eos_token_id`) become
    `stop_token_ids`, never string stop words. A kwarg that would change the
    results and that no engine takes (beam search, ...) is refused.
    """
    src = dict(model.get('generation_kwargs') or {})
    sampling = bool(src.pop('do_sample', False))
    temperature, top_p, top_k = (src.pop(k, None)
                                 for k in ('temperature', 'top_p', 'top_k'))
    out = {'do_sample': sampling, 'temperature': 0.0}
    if sampling:
        out['temperature'] = 1.0 if temperature is None else float(temperature)
        out.update({k: v for k, v in (('top_p', top_p), ('top_k', top_k))
                    if v is not None})
    stop = as_list(src.pop('stop_strings', None)) + as_list(
        src.pop('stop', None))
    if stop:
        out['stop'] = stop
    ids = as_list(src.pop('eos_token_id', None)) + as_list(
        src.pop('stop_token_ids', None))
    if ids:
        out['stop_token_ids'] = list(dict.fromkeys(int(i) for i in ids))
    for key in ('max_new_tokens', 'min_new_tokens', 'repetition_penalty'):
        if src.get(key) is not None:
            out[key] = src.pop(key)
        src.pop(key, None)
    seed = src.pop('seed', None)
    seed = src.pop('random_seed', seed)
    if seed is not None:
        out['seed'] = seed
    _check_leftover_generation_kwargs(model, src)
    return out


def _check_leftover_generation_kwargs(model, src):
    for key, default in DEFAULT_ONLY_GENERATION_KWARGS.items():
        if src.pop(key, default) != default:
            refuse(model, None, f'generation_kwargs.{key}',
                   f'only {key}={default} converts; run it with -a hf')
    left = sorted(set(src) - HF_ONLY_GENERATION_KWARGS)
    if left:
        refuse(model, None, f'generation_kwargs {left}',
               'remove them from the config or run it with -a hf')


def split_model_kwargs(model, backend):
    """The model_kwargs an engine can take ({trust_remote_code, revision});
    HF-only ones are dropped, anything else is refused (quantization on load,
    rope scaling, ... would silently change the model)."""
    kwargs = dict(model.get('model_kwargs') or {})
    unknown = sorted(set(kwargs) - HF_ONLY_MODEL_KWARGS - CARRIED_MODEL_KWARGS
                     - CONTEXT_MODEL_KWARGS)
    if unknown:
        refuse(model, backend, f'model_kwargs {unknown}',
               f'write a {backend} model dict with the engine\'s own option, '
               'or run it with -a hf')
    return {k: kwargs[k] for k in CARRIED_MODEL_KWARGS if k in kwargs}


def check_fields(model, backend):
    """Refuse settings that change results and cannot be carried; warn about
    (and drop) fields no converter knows, as the HF classes would."""
    for field, default in DEFAULT_ONLY_FIELDS.items():
        if model.get(field, default) not in (default, None):
            refuse(model, backend, f'{field}={model[field]!r}',
                   'remove it or run it with -a hf')
    unknown = sorted(set(model) - KNOWN_FIELDS)
    if unknown:
        logger.warning('model %s: fields %s are not used by the %s backend '
                       'and are dropped', model.get('abbr'), unknown, backend)


def num_gpus(model):
    return int((model.get('run_cfg') or {}).get('num_gpus', 1) or 1)


def stop_words(model, gen):
    """Config stop words plus the string stops of generation_kwargs, once each."""
    words = as_list(model.get('stop_words')) + gen.get('stop', [])
    return list(dict.fromkeys(w for w in words if w))


def context_length(model):
    """The context length: `max_seq_len`, or `model_kwargs.max_seq_len`
    (MPT-style configs set the model's length there), the smaller if both."""
    lengths = [v for v in (model.get('max_seq_len'),
                           (model.get('model_kwargs') or {}).get('max_seq_len'))
               if v]
    return min(lengths) if lengths else None


def carry_fastchat_template(model, kind):
    """A named FastChat format becomes its meta_template (and stop words):
    the model then converts as a base model rendering it, on every backend.
    Returns the kind to convert as. Mutates `model` (a private copy)."""
    name = fastchat_name(model)
    for field in FASTCHAT_FIELDS:
        model.pop(field, None)
    if not name:
        return kind
    if model.get('meta_template'):
        refuse(model, None, f'fastchat_template={name!r} with a meta_template',
               'keep one of the two')
    try:
        fmt = fastchat_format(name)
    except OpenCompassError as err:
        refuse(model, None, f'fastchat_template={name!r}', str(err))
    model['meta_template'] = fmt['meta_template']
    model['stop_words'] = as_list(model.get('stop_words')) + fmt['stop_words']
    return 'base'


def common_fields(model, backend, type_name, gen, meta_template=True):
    """The fields every backend shares: identity, lengths, batch, stops."""
    out = {'type': type_name, 'abbr': update_abbr(model, backend),
           'path': model.get('path')}
    copy_optional_fields(model, out, ('max_out_len', 'batch_size', 'run_cfg'))
    if context_length(model):
        out['max_seq_len'] = context_length(model)
    if out.get('max_out_len') is None and gen.get('max_new_tokens'):
        out['max_out_len'] = gen['max_new_tokens']
    fields = ('meta_template', 'end_str') if meta_template else ('end_str', )
    copy_optional_fields(model, out, fields)
    if stop_words(model, gen):
        out['stop_words'] = stop_words(model, gen)
    if model.get('tokenizer_only'):
        out['tokenizer_only'] = True
    return copy_optional_fields(model, out, FRAMEWORK_FIELDS)


def prepare(model, backend, lora=False):
    """Checks every converter runs first; returns the normalized gen kwargs."""
    check_fields(model, backend)
    if model.get('peft_path') and not lora:
        refuse(model, backend, f"peft_path={model['peft_path']!r}",
               'merge the adapter into the weights, use -a vllm (LoRA '
               'support) or run it with -a hf')
    return extract_generation_kwargs(model)


def pick(gen, names):
    """`gen` restricted to the engine's names: {engine_name: normalized_name}."""
    return {dst: gen[src] for dst, src in names.items() if src in gen}


def produces(*type_names):
    """Mark the types a converter emits: a dict of those types is already
    converted and passes through (idempotence, with no list to keep apart)."""
    def mark(converter):
        converter.produces = type_names
        return converter
    return mark
