"""Model classes, imported on first attribute access (PEP 562).

`from opencompass.models import VLLM` in a config costs nothing until the model is
built: the name is looked up in `opencompass.registry.MODELS` and only then is its
module (and its engine) imported.
"""
from opencompass.registry import MODELS, import_target

__all__ = sorted(MODELS)


def __getattr__(name):
    if name in MODELS:
        value = import_target(MODELS[name])
        globals()[name] = value
        return value
    raise AttributeError(f'module {__name__!r} has no attribute {name!r}')


def __dir__():
    return __all__
