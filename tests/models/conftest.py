"""Makes tests/engine_standins importable as the package `engine_standins`
(loaded by file path: no sys.path change), for every test module here."""
import importlib.util
import pathlib
import sys

import pytest

STANDINS_DIR = pathlib.Path(__file__).parents[1] / 'engine_standins'


def _load_standins():
    if 'engine_standins' not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            'engine_standins', STANDINS_DIR / '__init__.py',
            submodule_search_locations=[str(STANDINS_DIR)])
        module = importlib.util.module_from_spec(spec)
        sys.modules['engine_standins'] = module
        spec.loader.exec_module(module)
    return sys.modules['engine_standins']


_load_standins()


@pytest.fixture(autouse=True)
def _no_hub_lookups(monkeypatch):
    """Engine models read a hub checkpoint's config.json (context limit) and
    an adapter's adapter_config.json (LoRA rank); tests never reach the
    network: hub ids have neither here."""
    from opencompass.models import _engine_utils
    monkeypatch.setattr(_engine_utils, 'hub_file',
                        lambda repo, filename, revision=None: None,
                        raising=False)
