"""Model classes, imported on first attribute access (PEP 562).

`from opencompass.models import VLLM` in a config costs nothing until the model is
built: the name is looked up in `opencompass.registry.MODELS` and only then is its
module (and its engine) imported.
"""
from opencompass.registry import MODELS, lazy_exports

__getattr__, __dir__, __all__ = lazy_exports(__name__, MODELS, globals())
