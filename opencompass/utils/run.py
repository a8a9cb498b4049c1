"""Run-time rewrites of a loaded config: the accelerator switch (`-a BACKEND`).

`change_accelerator` turns the HuggingFace model dicts users write into the dicts
of another backend (vLLM, LMDeploy, SGLang, an OpenAI-compatible server) just
before the run, so one config evaluates on any backend with no edit.

Design (user-facing: docs/en/advanced_guides/accelerator_intro.md):
- pure: new dicts out, the caller's dicts untouched; idempotent: a converted
  dict passes through unchanged;
- one converter per (backend, kind), found through `_CONVERTERS`; adding a
  backend is one converter module (opencompass/utils/accelerator/) plus one
  model class, and one line in that table;
- every HF field has one fate per backend: carried (maybe renamed), dropped
  because it only means something to transformers, or refused with an
  `OpenCompassError` because it changes results and the backend cannot carry it.
"""
import copy
import importlib

from opencompass.errors import UnknownModelTypeError, UnknownNameError
from opencompass.registry import type_name as _registry_type_name
from opencompass.utils.accelerator import lmdeploy, openai, sglang, vllm
from opencompass.utils.accelerator.common import (Options,
                                                  carry_fastchat_template,
                                                  produces)
from opencompass.utils.accelerator.openai import DEFAULT_API_BASE  # noqa: F401

BASE_TYPES = ('HuggingFaceBaseModel', 'HuggingFace', 'HuggingFaceCausalLM',
              'HuggingFaceChatGLM3')
CHAT_TYPES = ('HuggingFacewithChatTemplate', )
# Types some backend already runs, beyond what the converters emit (their
# `produces`): dicts of these pass through unchanged.
OTHER_BACKEND_TYPES = ('OpenAI', )


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


_produces = produces  # marks a converter's output types (see common.produces)

# (backend, kind) -> converter. The one place a backend is registered.
_CONVERTERS = {
    ('vllm', 'base'): vllm.convert_base,
    ('vllm', 'chat'): vllm.convert_chat,
    ('lmdeploy', 'base'): lmdeploy.convert_base,
    ('lmdeploy', 'chat'): lmdeploy.convert_chat,
    ('sglang', 'base'): sglang.convert_base,
    ('sglang', 'chat'): sglang.convert_chat,
    ('openai', 'base'): openai.convert_base,
    ('openai', 'chat'): openai.convert_chat,
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
    kind = carry_fastchat_template(model, kind)
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
    opts = Options(api_base, api_key, api_model, server_type)
    return [_convert_one(m, backend, opts) for m in models]
