"""Run-time rewrites of a loaded config: the accelerator switch (`-a BACKEND`).

`change_accelerator` turns the HuggingFace model dicts users write into the dicts
of another backend (vLLM, LMDeploy, SGLang, an OpenAI-compatible server) just
before the run, so one config evaluates on any backend with no edit.

Design (see ../../../shared/DESIGN.md, "The backend layer"):
- pure: new dicts out, the caller's dicts untouched; idempotent: a converted
  dict passes through unchanged;
- one converter per (backend, kind), found through `_CONVERTERS`; adding a
  backend is one converter here plus one model class, nothing else;
- every HF field has one fate per backend: carried (maybe renamed), dropped
  because it only means something to transformers, or refused with an
  `OpenCompassError` because it changes results and the backend cannot carry it.
"""
import copy
import dataclasses
import importlib
import logging
import os

from opencompass.errors import (OpenCompassError, UnknownModelTypeError,
                                UnknownNameError)
from opencompass.registry import type_name as _registry_type_name

logger = logging.getLogger(__name__)

BASE_TYPES = ('HuggingFaceBaseModel', 'HuggingFace', 'HuggingFaceCausalLM',
              'HuggingFaceChatGLM3')
CHAT_TYPES = ('HuggingFacewithChatTemplate', )
# Types some backend already runs, beyond what the converters emit (their
# `produces`): dicts of these pass through unchanged.
OTHER_BACKEND_TYPES = ('OpenAI', )

DEFAULT_API_BASE = 'http://127.0.0.1:8000/v1'

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
# middle truncation and fastchat templates have no engine equivalent.
DEFAULT_ONLY_FIELDS = {'mode': 'none', 'drop_middle': False,
                       'fastchat_template': None,
                       'use_fastchat_template': False}
# fields the framework itself reads; every backend keeps them as they are.
FRAMEWORK_FIELDS = ('summarizer_abbr', 'pred_postprocessor', 'pred_role')
# every other field a converter reads (anything else is dropped with a warning,
# as the HF classes themselves ignore unknown arguments with a warning).
KNOWN_FIELDS = frozenset({
    'type', 'abbr', 'path', 'model_kwargs', 'tokenizer_path',
    'tokenizer_kwargs', 'peft_path', 'generation_kwargs', 'max_seq_len',
    'max_out_len', 'batch_size', 'meta_template', 'end_str', 'stop_words',
    'tokenizer_only', 'run_cfg'}) | HF_ONLY_FIELDS | set(
        DEFAULT_ONLY_FIELDS) | set(FRAMEWORK_FIELDS)


@dataclasses.dataclass(frozen=True)
class _Options:
    """CLI options some converters need (only the OpenAI one, today)."""

    api_base: str = None
    api_key: str = None
    api_model: str = None
    server_type: str = None


# ---- telling kinds apart ----------------------------------------------------
def _short_name(type_):
    """The short class name of a `type=` value in any spelling, no import.

    mmengine's LazyObject/LazyAttr answer every attribute lookup with another
    lazy object, so they are read through their own fields first.
    """
    cls_name = type(type_).__name__
    if cls_name == 'LazyAttr':
        return type_.name
    if cls_name == 'LazyObject':
        return getattr(type_, '_imported', None) or str(type_.module).rsplit(
            '.', 1)[-1]
    if isinstance(type_, str):
        return type_.replace(':', '.').rsplit('.', 1)[-1]
    if isinstance(type_, type):
        return type_.__name__
    return str(_registry_type_name(type_))


def _resolve_class(type_):
    """The class behind a dotted path or a lazy object (a user's subclass), or
    None. Only called for names that are not known kinds, so the HF and engine
    modules are never imported to classify the common cases."""
    try:
        if type(type_).__name__ in ('LazyAttr', 'LazyObject'):
            obj = type_.build()
        elif isinstance(type_, str) and ('.' in type_ or ':' in type_):
            module, _, attr = type_.replace(':', '.').rpartition('.')
            obj = getattr(importlib.import_module(module), attr)
        else:
            return None
    except Exception:  # noqa: BLE001 - an unimportable type is an unknown type
        return None
    return obj if isinstance(obj, type) else None


def _type_names(type_):
    """Names to match against the kinds, most specific first: a class's MRO
    (so a subclass converts like its parent), else the short name."""
    if not isinstance(type_, type):
        name = _short_name(type_)
        if name in BASE_TYPES + CHAT_TYPES + converted_types():
            return [name]
        type_ = _resolve_class(type_)
        if type_ is None:
            return [name]
    return [c.__name__ for c in type_.__mro__]


def _model_kind(model):
    """'base', 'chat', 'converted' or None, from the first known name in the
    MRO (HuggingFaceBaseModel may subclass the chat class: the nearer wins)."""
    for name in _type_names(model.get('type')):
        if name in converted_types():
            return 'converted'
        if name in BASE_TYPES:
            return 'base'
        if name in CHAT_TYPES:
            return 'chat'
    return None


def _is_base_model(model):
    return _model_kind(model) == 'base'


def _is_chat_model(model):
    return _model_kind(model) == 'chat'


# ---- shared helpers ---------------------------------------------------------
def _refuse(model, backend, what, hint):
    """Stop with a message naming the setting, the backend and the way out."""
    target = f'the {backend} backend' if backend else 'another backend'
    raise OpenCompassError(
        f"model {model.get('abbr') or model.get('path')!r}: {what} cannot be "
        f'carried to {target}; {hint}')


def _update_abbr(model, backend):
    """`-hf` becomes `-<backend>`; otherwise the suffix is appended, so the
    results of two backends never share a name."""
    abbr = model.get('abbr')
    if not abbr:
        abbr = os.path.basename(str(model.get('path') or 'model').rstrip('/'))
    if abbr.endswith('-hf'):
        return abbr[:-len('-hf')] + f'-{backend}'
    return f'{abbr}-{backend}'


def _copy_optional_fields(src, dst, fields):
    """Copy the fields `src` has (deep copies): a field never set stays unset,
    so the target class keeps its own default."""
    for field in fields:
        if src.get(field) is not None:
            dst[field] = copy.deepcopy(src[field])
    return dst


def _as_list(value):
    if value is None:
        return []
    if isinstance(value, (list, tuple)):
        return [v for item in value for v in _as_list(item)]
    return [value]


def _extract_generation_kwargs(model):
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
    stop = _as_list(src.pop('stop_strings', None)) + _as_list(
        src.pop('stop', None))
    if stop:
        out['stop'] = stop
    ids = _as_list(src.pop('eos_token_id', None)) + _as_list(
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
            _refuse(model, None, f'generation_kwargs.{key}',
                    f'only {key}={default} converts; run it with -a hf')
    left = sorted(set(src) - HF_ONLY_GENERATION_KWARGS)
    if left:
        _refuse(model, None, f'generation_kwargs {left}',
                'remove them from the config or run it with -a hf')


def _split_model_kwargs(model, backend):
    """The model_kwargs an engine can take ({trust_remote_code, revision});
    HF-only ones are dropped, anything else is refused (quantization on load,
    rope scaling, ... would silently change the model)."""
    kwargs = dict(model.get('model_kwargs') or {})
    unknown = sorted(set(kwargs) - HF_ONLY_MODEL_KWARGS - CARRIED_MODEL_KWARGS)
    if unknown:
        _refuse(model, backend, f'model_kwargs {unknown}',
                f'write a {backend} model dict with the engine\'s own option, '
                'or run it with -a hf')
    return {k: kwargs[k] for k in CARRIED_MODEL_KWARGS if k in kwargs}


def _check_fields(model, backend):
    """Refuse settings that change results and cannot be carried; warn about
    (and drop) fields no converter knows, as the HF classes would."""
    for field, default in DEFAULT_ONLY_FIELDS.items():
        if model.get(field, default) not in (default, None):
            _refuse(model, backend, f'{field}={model[field]!r}',
                    'remove it or run it with -a hf')
    unknown = sorted(set(model) - KNOWN_FIELDS)
    if unknown:
        logger.warning('model %s: fields %s are not used by the %s backend '
                       'and are dropped', model.get('abbr'), unknown, backend)


def _num_gpus(model):
    return int((model.get('run_cfg') or {}).get('num_gpus', 1) or 1)


def _stop_words(model, gen):
    """Config stop words plus the string stops of generation_kwargs, once each."""
    words = _as_list(model.get('stop_words')) + gen.get('stop', [])
    return list(dict.fromkeys(w for w in words if w))


def _common(model, backend, type_name, gen, meta_template=True):
    """The fields every backend shares: identity, lengths, batch, stops."""
    out = {'type': type_name, 'abbr': _update_abbr(model, backend),
           'path': model.get('path')}
    _copy_optional_fields(model, out, ('max_seq_len', 'max_out_len',
                                       'batch_size', 'run_cfg'))
    if out.get('max_out_len') is None and gen.get('max_new_tokens'):
        out['max_out_len'] = gen['max_new_tokens']
    fields = ('meta_template', 'end_str') if meta_template else ('end_str', )
    _copy_optional_fields(model, out, fields)
    if _stop_words(model, gen):
        out['stop_words'] = _stop_words(model, gen)
    if model.get('tokenizer_only'):
        out['tokenizer_only'] = True
    return _copy_optional_fields(model, out, FRAMEWORK_FIELDS)


def _prepare(model, backend, lora=False):
    """Checks every converter runs first; returns the normalized gen kwargs."""
    _check_fields(model, backend)
    if model.get('peft_path') and not lora:
        _refuse(model, backend, f"peft_path={model['peft_path']!r}",
                'merge the adapter into the weights, use -a vllm (LoRA '
                'support) or run it with -a hf')
    return _extract_generation_kwargs(model)


def _pick(gen, names):
    """`gen` restricted to the engine's names: {engine_name: normalized_name}."""
    return {dst: gen[src] for dst, src in names.items() if src in gen}


def _produces(*type_names):
    """Mark the types a converter emits: a dict of those types is already
    converted and passes through (idempotence, with no list to keep apart)."""
    def mark(converter):
        converter.produces = type_names
        return converter
    return mark


# ---- converters: one per (backend, kind) ------------------------------------
_VLLM_SAMPLING = {'temperature': 'temperature', 'top_p': 'top_p',
                  'top_k': 'top_k', 'stop_token_ids': 'stop_token_ids',
                  'repetition_penalty': 'repetition_penalty',
                  'min_tokens': 'min_new_tokens', 'seed': 'seed'}


def _vllm_tokenizer_kwargs(model):
    """HF tokenizer settings as vLLM `LLM(...)` arguments."""
    out = {}
    tok_path = model.get('tokenizer_path')
    if tok_path and tok_path != model.get('path'):
        out['tokenizer'] = tok_path
    kwargs = dict(model.get('tokenizer_kwargs') or {})
    if kwargs.pop('use_fast', True) is False:
        out['tokenizer_mode'] = 'slow'
    if 'revision' in kwargs:
        out['tokenizer_revision'] = kwargs.pop('revision')
    if 'trust_remote_code' in kwargs:
        out['trust_remote_code'] = kwargs.pop('trust_remote_code')
    unknown = sorted(set(kwargs) - HF_ONLY_TOKENIZER_KWARGS)
    if unknown:
        _refuse(model, 'vllm', f'tokenizer_kwargs {unknown}',
                'vLLM loads its tokenizer itself; remove them')
    return out


def _convert_to_vllm(model, chat):
    gen = _prepare(model, 'vllm', lora=True)
    out = _common(model, 'vllm', 'VLLMwithChatTemplate' if chat else 'VLLM',
                  gen, meta_template=not chat)
    engine = {'tensor_parallel_size': _num_gpus(model)}
    if model.get('max_seq_len'):
        engine['max_model_len'] = model['max_seq_len']
    engine.update(_vllm_tokenizer_kwargs(model))
    engine.update(_split_model_kwargs(model, 'vllm'))
    if model.get('peft_path'):
        engine['enable_lora'] = True
        out['lora_path'] = model['peft_path']
    out['model_kwargs'] = engine
    out['generation_kwargs'] = _pick(gen, _VLLM_SAMPLING)
    return out


@_produces('VLLM')
def _convert_to_vllm_base(model, opts):
    return _convert_to_vllm(model, chat=False)


@_produces('VLLMwithChatTemplate')
def _convert_to_vllm_chat(model, opts):
    return _convert_to_vllm(model, chat=True)


_LMDEPLOY_GEN = {'temperature': 'temperature', 'top_p': 'top_p',
                 'top_k': 'top_k', 'stop_token_ids': 'stop_token_ids',
                 'repetition_penalty': 'repetition_penalty',
                 'min_new_tokens': 'min_new_tokens', 'random_seed': 'seed'}


def _lmdeploy_gen_config(gen, max_out_len):
    """Greedy defaults (top_k=1, temperature=1e-6: TurboMind divides by the
    temperature) that the model's own kwargs override; sampling replaces the
    greedy defaults and sets do_sample, which recent LMDeploy requires."""
    cfg = {'top_k': 1, 'temperature': 1e-6}
    if gen['do_sample']:
        cfg = {'do_sample': True}
    if max_out_len:
        cfg['max_new_tokens'] = max_out_len
    picked = _pick(gen, _LMDEPLOY_GEN)
    if not gen['do_sample']:
        picked.pop('temperature', None)
    cfg.update(picked)
    return cfg


def _convert_to_lmdeploy(model, chat):
    gen = _prepare(model, 'lmdeploy')
    out = _common(model, 'lmdeploy', 'TurboMindModelwithChatTemplate'
                  if chat else 'TurboMindModel', gen, meta_template=not chat)
    carried = _split_model_kwargs(model, 'lmdeploy')
    engine = {'tp': _num_gpus(model)}
    if model.get('max_seq_len'):
        engine['session_len'] = model['max_seq_len']
    if model.get('batch_size'):
        engine['max_batch_size'] = model['batch_size']
    if 'revision' in carried:
        engine['revision'] = carried['revision']
    out['engine_config'] = engine
    out['gen_config'] = _lmdeploy_gen_config(gen, out.get('max_out_len'))
    out['backend'] = 'turbomind'
    if carried.get('trust_remote_code'):
        out['trust_remote_code'] = True
    return _copy_optional_fields(model, out,
                                 ('tokenizer_path', 'tokenizer_kwargs'))


@_produces('TurboMindModel')
def _convert_to_lmdeploy_base(model, opts):
    return _convert_to_lmdeploy(model, chat=False)


@_produces('TurboMindModelwithChatTemplate')
def _convert_to_lmdeploy_chat(model, opts):
    return _convert_to_lmdeploy(model, chat=True)


_SGLANG_SAMPLING = {'temperature': 'temperature', 'top_p': 'top_p',
                    'top_k': 'top_k', 'stop_token_ids': 'stop_token_ids',
                    'repetition_penalty': 'repetition_penalty',
                    'min_new_tokens': 'min_new_tokens',
                    'sampling_seed': 'seed'}


@_produces('SGLang', 'SGLangwithChatTemplate')
def _convert_to_sglang(model, opts):
    """Base and chat: SGLang's offline Engine takes both the same way."""
    chat = _is_chat_model(model)
    gen = _prepare(model, 'sglang')
    out = _common(model, 'sglang', 'SGLangwithChatTemplate'
                  if chat else 'SGLang', gen, meta_template=not chat)
    engine = {'tp_size': _num_gpus(model)}
    if model.get('max_seq_len'):
        engine['context_length'] = model['max_seq_len']
    engine.update(_split_model_kwargs(model, 'sglang'))
    out['model_kwargs'] = engine
    out['generation_kwargs'] = _pick(gen, _SGLANG_SAMPLING)
    return _copy_optional_fields(model, out,
                                 ('tokenizer_path', 'tokenizer_kwargs'))


def _openai_generation_kwargs(model, gen):
    """Only what the OpenAI API knows: temperature, top_p, seed. top_k and
    token-id stops have no OpenAI name: dropped, with a warning when set."""
    out = _pick(gen, {'temperature': 'temperature', 'top_p': 'top_p',
                      'seed': 'seed'})
    lost = [k for k in ('top_k', 'stop_token_ids', 'repetition_penalty',
                        'min_new_tokens') if k in gen]
    if lost:
        logger.warning('model %s: generation kwargs %s have no OpenAI API '
                       'equivalent and are not sent; the server\'s own '
                       'defaults apply', model.get('abbr'), lost)
    return out


@_produces('OpenAISDK')
def _convert_to_openai(model, opts):
    """Base and chat: the server holds the weights; we send prompts."""
    chat = _is_chat_model(model)
    if model.get('peft_path'):
        _refuse(model, 'openai', f"peft_path={model['peft_path']!r}",
                'serve the adapter (e.g. vllm serve BASE --enable-lora '
                '--lora-modules NAME=PATH) and pass --api-model NAME')
    gen = _prepare(model, 'openai', lora=True)
    out = _common(model, 'openai', 'OpenAISDK', gen, meta_template=not chat)
    out.pop('tokenizer_only', None)  # no weights to skip: nothing to load
    end_str = out.pop('end_str', None)  # OpenAISDK cuts at stop words only
    if end_str:
        out['stop_words'] = list(dict.fromkeys(out.get('stop_words', []) +
                                               [end_str]))
    out['path'] = opts.api_model
    out['tokenizer_path'] = model.get('tokenizer_path') or model.get('path')
    _copy_optional_fields(model, out, ('tokenizer_kwargs', ))
    if (model.get('model_kwargs') or {}).get('trust_remote_code'):
        # the prompt tokenizer is loaded here, from the HF path
        out.setdefault('tokenizer_kwargs', {})['trust_remote_code'] = True
    out['openai_api_base'] = (opts.api_base or os.environ.get('OPENAI_API_BASE')
                              or DEFAULT_API_BASE)
    # 'ENV': OpenAISDK reads $OPENAI_API_KEY itself, so no secret is written
    # into the dict (dry-run output, dumped configs)
    out['key'] = opts.api_key or ('ENV' if os.environ.get('OPENAI_API_KEY')
                                  else 'EMPTY')
    out['mode'] = 'chat' if chat else 'base'
    if opts.server_type:
        out['server_type'] = opts.server_type
    out['generation_kwargs'] = _openai_generation_kwargs(model, gen)
    out['run_cfg'] = dict(out.get('run_cfg') or {}, num_gpus=0)
    return out


# (backend, kind) -> converter. The one place a backend is registered.
_CONVERTERS = {
    ('vllm', 'base'): _convert_to_vllm_base,
    ('vllm', 'chat'): _convert_to_vllm_chat,
    ('lmdeploy', 'base'): _convert_to_lmdeploy_base,
    ('lmdeploy', 'chat'): _convert_to_lmdeploy_chat,
    ('sglang', 'base'): _convert_to_sglang,
    ('sglang', 'chat'): _convert_to_sglang,
    ('openai', 'base'): _convert_to_openai,
    ('openai', 'chat'): _convert_to_openai,
}


def converted_types():
    """Every type a converter emits, plus OTHER_BACKEND_TYPES."""
    emitted = (t for c in _CONVERTERS.values()
               for t in getattr(c, 'produces', ()))
    return tuple(dict.fromkeys([*emitted, *OTHER_BACKEND_TYPES]))


def accelerators():
    """The names `-a` accepts: hf plus every backend in the converter table."""
    return ('hf', ) + tuple(dict.fromkeys(b for b, _ in _CONVERTERS))


ACCELERATORS = accelerators()  # for the CLI's choices


def _check_accelerator(accelerator):
    name = str(accelerator or 'hf').lower()
    if name not in accelerators():
        raise UnknownNameError(f'unknown accelerator {accelerator!r}; choose '
                               f'one of: {", ".join(accelerators())}')
    return name


def _unknown_type(model, backend):
    return UnknownModelTypeError(
        f"cannot convert model {model.get('abbr') or model.get('path')!r} "
        f"of type {_short_name(model.get('type'))!r} to {backend}: only "
        f"HuggingFace types convert (base: {', '.join(BASE_TYPES)}; chat: "
        f"{', '.join(CHAT_TYPES)}); converted types "
        f"({', '.join(converted_types())}) pass through. Write a {backend} "
        'model dict for it or run with -a hf')


def _convert_one(model, backend, opts):
    kind = _model_kind(model)
    if kind == 'converted':
        return copy.deepcopy(model)
    if kind is None:
        raise _unknown_type(model, backend)
    model = copy.deepcopy(model)  # converters read a private copy
    return _CONVERTERS[(backend, kind)](model, opts)


def change_accelerator(models, accelerator, api_base=None, api_key=None,
                       api_model=None, server_type=None):
    """Rewrite HF model dicts for `accelerator` (hf, vllm, lmdeploy, sglang,
    openai). Returns new dicts; the given ones are never changed. `hf` (or
    None) returns copies unchanged. `api_*` and `server_type` (the engine
    behind the API, instead of probing it) are for `openai` only."""
    backend = _check_accelerator(accelerator)
    if backend == 'hf':
        return [copy.deepcopy(m) for m in models]
    opts = _Options(api_base, api_key, api_model, server_type)
    return [_convert_one(m, backend, opts) for m in models]
