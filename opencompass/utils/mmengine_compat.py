"""Two fixes to mmengine's config loader, applied before every config load.

1. `with read_base(): from opencompass.configs.x import y` makes mmengine look up
   the folder of the package `opencompass` with `pkg_resources`, which
   setuptools >= 81 no longer ships (ModuleNotFoundError), and which, where it
   exists, answers with the *installed* distribution's folder even when another
   checkout comes first on sys.path. `importlib.util.find_spec` answers what
   `import opencompass` would import: right for installed, editable and
   PYTHONPATH checkouts alike, and needs nothing beyond the standard library.

2. In a config that uses `read_base()`, mmengine turns every import it does not
   think is the standard library into a LazyObject, and it tells the standard
   library apart by the folder it lives in. In a virtual environment that test
   fails, so `import os` becomes a LazyObject and `os.path.join(...)` in a config
   raises an empty `RuntimeError`. `sys.stdlib_module_names` (Python >= 3.10)
   knows the standard library exactly, so those imports stay real imports.

Both are replacements of module attributes that mmengine looks up at call time;
`apply()` is idempotent and cheap.
"""
import importlib.util
import os
import sys

_applied = False


def package_folder(package):
    """The folder of an importable package, as `import package` would find it."""
    try:
        spec = importlib.util.find_spec(package)
    except (ImportError, ValueError):
        spec = None
    if spec is None:
        raise ModuleNotFoundError(f'no module named {package!r}')
    if spec.origin and spec.origin not in ('namespace', 'built-in'):
        return os.path.dirname(spec.origin)
    locations = list(spec.submodule_search_locations or [])
    if not locations:
        raise ModuleNotFoundError(f'{package!r} has no folder on disk')
    return locations[0]


def _stdlib_aware(original):
    """Wrap mmengine's `_is_builtin_module` with an exact standard-library test."""
    names = getattr(sys, 'stdlib_module_names', None)
    if not names:  # Python 3.9: keep mmengine's own test
        return original

    def is_builtin_module(module_name):
        if module_name.split('.')[0] in names:
            return True
        return original(module_name)

    is_builtin_module.__wrapped__ = original
    return is_builtin_module


def apply():
    """Patch mmengine's config modules (once per process)."""
    global _applied
    if _applied:
        return
    import mmengine.config.config as config_mod
    import mmengine.config.utils as utils_mod
    config_mod.get_installed_path = package_folder
    builtin = _stdlib_aware(utils_mod._is_builtin_module)
    utils_mod._is_builtin_module = builtin
    config_mod._is_builtin_module = builtin
    _applied = True
