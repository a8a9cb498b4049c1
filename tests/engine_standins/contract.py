"""The extracted engine contracts (contracts/<engine>-<version>.json), read by
the stand-ins and the tests; never by the project itself.

The version is the one requirements/<engine>.txt pins, so a stand-in always
speaks the API of the supported release. A missing file means the pin was
bumped without re-running extract_contracts.py.
"""
import functools
import json

from engine_standins.extract_contracts import (contract_path,
                                               pinned_version)


@functools.lru_cache(maxsize=None)
def load(engine):
    version = pinned_version(engine)
    path = contract_path(engine, version)
    if not path.is_file():
        raise FileNotFoundError(
            f'no contract for {engine} {version} ({path.name}); run '
            f'python tests/engine_standins/extract_contracts.py {engine}')
    return json.loads(path.read_text())


def names(engine, *apis):
    """Every keyword the given APIs of `engine` accept (a frozenset)."""
    apis_ = load(engine)['apis']
    return frozenset(n for api in apis for n in apis_[api]['names'])


def source(engine, api, name):
    """The engine source file `name` of `api` came from."""
    return load(engine)['apis'][api]['names'][name]


def values(engine, key):
    """A value set (or default) the contract recorded, e.g. tokenizer modes."""
    return load(engine)['values'][key]['values']
