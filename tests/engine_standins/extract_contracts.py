"""Extract the engines' API contracts from their released wheels.

    python tests/engine_standins/extract_contracts.py [vllm sglang lmdeploy]
        [--wheel-dir DIR]

For each engine it reads the pinned version from requirements/<engine>.txt
(the lower bound of the supported range), fetches that release's wheel with
`pip download --no-deps` (into --wheel-dir, default a temporary directory;
never into the repository), and reads the Python source straight out of the
archive with `ast`: the engine is never installed nor imported. It writes
tests/engine_standins/contracts/<engine>-<version>.json: every keyword each API
the project calls accepts, each with the source file it came from, plus the
few value sets the stand-ins model (vLLM's tokenizer modes, LoRA ranks).

The stand-ins (fake_*.py) read their accepted names from those files only, and
tests/engine_standins/test_contracts.py fails when a pin and the contract files
disagree, so a version bump forces a re-run of this script. CI never runs it.
"""
import argparse
import ast
import hashlib
import json
import pathlib
import re
import subprocess
import sys
import tempfile
import zipfile

HERE = pathlib.Path(__file__).resolve().parent
ROOT = HERE.parents[1]
CONTRACTS_DIR = HERE / 'contracts'
ENGINES = ('vllm', 'sglang', 'lmdeploy')


# ---- the pins ---------------------------------------------------------------
def pinned_spec(engine):
    """The version specifier of `engine` in requirements/<engine>.txt,
    e.g. '>=0.33.0,<0.34' (extras and comments stripped)."""
    text = (ROOT / 'requirements' / f'{engine}.txt').read_text()
    for line in text.splitlines():
        line = line.split('#', 1)[0].strip()
        match = re.match(rf'^{engine}(\[[^\]]*\])?\s*(.*)$', line)
        if match:
            return match.group(2).replace(' ', '')
    raise SystemExit(f'requirements/{engine}.txt pins no {engine} version')


def pinned_version(engine):
    """The release a contract is extracted from: the range's lower bound."""
    spec = pinned_spec(engine)
    match = re.search(r'(?:>=|==)([0-9][0-9A-Za-z.]*)', spec)
    if not match:
        raise SystemExit(f'{engine}: {spec!r} has no ">=" or "==" bound')
    return match.group(1)


# ---- reading source out of a wheel ------------------------------------------
class Wheel:
    """The .py members of a wheel, parsed on demand (never imported)."""

    def __init__(self, path):
        self.path = pathlib.Path(path)
        self.zip = zipfile.ZipFile(self.path)
        self._trees = {}

    def tree(self, member):
        if member not in self._trees:
            source = self.zip.read(member).decode('utf-8')
            self._trees[member] = ast.parse(source, filename=member)
        return self._trees[member]

    def sha256(self):
        return hashlib.sha256(self.path.read_bytes()).hexdigest()


def find_node(tree, qualname):
    """The class or function `qualname` ('LLM.__init__') at module level."""
    body = tree.body
    node = None
    for part in qualname.split('.'):
        node = next((n for n in body if isinstance(
            n, (ast.ClassDef, ast.FunctionDef, ast.AsyncFunctionDef))
            and n.name == part), None)
        if node is None:
            raise LookupError(f'{qualname} not found')
        body = node.body
    return node


def function_params(node):
    """Keyword names a def takes (self excluded) and whether it has **kw."""
    args = node.args
    names = [a.arg for a in (*args.posonlyargs, *args.args, *args.kwonlyargs)]
    return [n for n in names if n not in ('self', 'cls')], args.kwarg is not None


def _is_excluded_field(stmt):
    """ClassVar, `field(init=False)` and private names are not init fields."""
    name = stmt.target.id
    annotation = ast.unparse(stmt.annotation)
    value = ast.unparse(stmt.value) if stmt.value is not None else ''
    return (name.startswith('_') or 'ClassVar' in annotation
            or re.search(r'\binit\s*=\s*False', value) is not None)


def class_fields(node):
    """The init fields of a dataclass / msgspec Struct / pydantic dataclass:
    its annotated class-level names."""
    return [s.target.id for s in node.body
            if isinstance(s, ast.AnnAssign) and isinstance(s.target, ast.Name)
            and not _is_excluded_field(s)]


def literal_values(tree, name):
    """The values of `NAME = Literal[...]` at module level."""
    for stmt in tree.body:
        target = getattr(stmt, 'target', None) or (
            stmt.targets[0] if isinstance(stmt, ast.Assign) else None)
        if isinstance(target, ast.Name) and target.id == name:
            sub = stmt.value
            elts = sub.slice.elts if isinstance(sub.slice, ast.Tuple) else [
                sub.slice]
            return [ast.literal_eval(e) for e in elts]
    raise LookupError(f'{name} not found')


def dict_keys(tree, name):
    """The literal keys of `NAME = {...}` (or `NAME: T = {...}`)."""
    for stmt in tree.body:
        target = getattr(stmt, 'target', None) or (
            stmt.targets[0] if isinstance(stmt, ast.Assign) else None)
        if (isinstance(target, ast.Name) and target.id == name
                and isinstance(stmt.value, ast.Dict)):
            return [ast.literal_eval(k) for k in stmt.value.keys]
    raise LookupError(f'{name} not found')


def field_default(tree, class_name, field):
    for stmt in find_node(tree, class_name).body:
        if (isinstance(stmt, ast.AnnAssign) and stmt.target.id == field
                and stmt.value is not None):
            return ast.literal_eval(stmt.value)
    raise LookupError(f'{class_name}.{field} has no literal default')


def imported_from(tree, name):
    """The module a top-level `from M import name` takes `name` from."""
    for stmt in tree.body:
        if isinstance(stmt, ast.ImportFrom) and any(
                a.name == name for a in stmt.names):
            return stmt.module
    raise LookupError(f'{name} is not imported')


def list_names(tree, name):
    """The identifiers of `NAME = [A, B, ...]`."""
    for stmt in tree.body:
        if (isinstance(stmt, ast.Assign) and isinstance(stmt.targets[0],
                                                        ast.Name)
                and stmt.targets[0].id == name):
            return [e.id for e in stmt.value.elts]
    raise LookupError(f'{name} not found')


# ---- what each engine's contract holds ---------------------------------------
def _params(wheel, member, qualname, drop=()):
    names, var_kw = function_params(find_node(wheel.tree(member), qualname))
    return {'names': {n: member for n in names if n not in drop},
            'var_keyword': var_kw}


def _fields(wheel, member, class_name):
    names = class_fields(find_node(wheel.tree(member), class_name))
    return {'names': {n: member for n in names}}


def _values(values, *members):
    return {'values': values, 'sources': list(members)}


def vllm_contract(wheel):
    llm, args = 'vllm/entrypoints/llm.py', 'vllm/engine/arg_utils.py'
    model_cfg, registry = 'vllm/config/model.py', 'vllm/tokenizers/registry.py'
    lora_cfg = 'vllm/config/lora.py'
    # tokenizer_mode: 'auto' is resolved (to 'mistral' or 'hf') in
    # resolve_tokenizer_args; any other value must be a registry key, else
    # TokenizerRegistry.load_tokenizer_cls raises "No tokenizer registered".
    modes = ['auto'] + dict_keys(wheel.tree(registry), '_VLLM_TOKENIZERS')
    return {
        'apis': {
            # LLM(model, *, ..., **kwargs): kwargs go to EngineArgs(...)
            'LLM.__init__': _params(wheel, llm, 'LLM.__init__'),
            'EngineArgs': _fields(wheel, args, 'EngineArgs'),
            'SamplingParams': _fields(wheel, 'vllm/sampling_params.py',
                                      'SamplingParams'),
            'LLM.generate': _params(wheel, llm, 'LLM.generate',
                                    drop=('prompts', )),
            'LoRARequest': _fields(wheel, 'vllm/lora/request.py',
                                   'LoRARequest'),
        },
        'values': {
            'tokenizer_mode': _values(modes, registry, model_cfg),
            'max_lora_rank': _values(
                literal_values(wheel.tree(lora_cfg), 'MaxLoRARanks'),
                lora_cfg),
            'max_lora_rank_default': _values(
                field_default(wheel.tree(lora_cfg), 'LoRAConfig',
                              'max_lora_rank'), lora_cfg),
        },
    }


def sglang_server_args(wheel):
    """ServerArgs is assembled at import (msgspec.defstruct) from the fields of
    the namespace classes listed in `_INPUT_NAMESPACES`, each in its module."""
    member = 'sglang/srt/server_args.py'
    tree = wheel.tree(member)
    names = {n: member for n in class_fields(find_node(tree, 'ServerArgs'))}
    for namespace in list_names(tree, '_INPUT_NAMESPACES'):
        module = imported_from(tree, namespace)
        ns_member = module.replace('.', '/') + '.py'
        for field in class_fields(find_node(wheel.tree(ns_member), namespace)):
            names[field] = ns_member
    return {'names': dict(sorted(names.items()))}


def sglang_contract(wheel):
    engine = 'sglang/srt/entrypoints/engine.py'
    return {
        'apis': {
            # Engine(**kwargs) builds ServerArgs(**kwargs)
            'Engine.__init__': _params(wheel, engine, 'Engine.__init__'),
            'ServerArgs': sglang_server_args(wheel),
            'Engine.generate': _params(wheel, engine, 'Engine.generate'),
            # the sampling_params dict becomes SamplingParams(**dict)
            # (sglang/srt/managers/tokenizer_manager.py)
            'SamplingParams': _fields(
                wheel, 'sglang/srt/sampling/sampling_params.py',
                'SamplingParams'),
        },
        'values': {},
    }


def lmdeploy_contract(wheel):
    messages, pipe = 'lmdeploy/messages.py', 'lmdeploy/pipeline.py'
    engine = 'lmdeploy/serve/core/async_engine.py'
    return {
        'apis': {
            'pipeline': _params(wheel, 'lmdeploy/api.py', 'pipeline'),
            # Pipeline.__call__ -> infer(prompts, gen_config, do_preprocess,
            # adapter_name, use_tqdm, **kwargs); kwargs reach
            # AsyncEngine.preprocess for each request
            'Pipeline.infer': _params(wheel, pipe, 'Pipeline.infer',
                                      drop=('prompts', )),
            'AsyncEngine.preprocess': _params(
                wheel, engine, 'AsyncEngine.preprocess',
                drop=('messages', 'session_id')),
            'Pipeline.get_ppl': _params(wheel, pipe, 'Pipeline.get_ppl'),
            'TurbomindEngineConfig': _fields(wheel, messages,
                                             'TurbomindEngineConfig'),
            'PytorchEngineConfig': _fields(wheel, messages,
                                           'PytorchEngineConfig'),
            'GenerationConfig': _fields(wheel, messages, 'GenerationConfig'),
            'Response': _fields(wheel, messages, 'Response'),
        },
        'values': {},
    }


EXTRACTORS = {'vllm': vllm_contract, 'sglang': sglang_contract,
              'lmdeploy': lmdeploy_contract}


# ---- download and write -------------------------------------------------------
def download_wheel(engine, version, wheel_dir):
    """`pip download --no-deps` one release's wheel; returns its path.
    Platform tags are given so a CPU-only machine can fetch a GPU wheel."""
    cmd = [sys.executable, '-m', 'pip', 'download', '--no-deps',
           '--only-binary=:all:', '--python-version', '3.12',
           '--platform', 'manylinux_2_34_x86_64',
           '--platform', 'manylinux_2_28_x86_64',
           '--platform', 'manylinux_2_17_x86_64',
           '--platform', 'manylinux2014_x86_64', '--platform', 'any',
           '-d', str(wheel_dir), f'{engine}=={version}']
    existing = sorted(pathlib.Path(wheel_dir).glob(f'{engine}-{version}-*.whl'))
    if not existing:
        subprocess.run(cmd, check=True)
        existing = sorted(
            pathlib.Path(wheel_dir).glob(f'{engine}-{version}-*.whl'))
    if not existing:
        raise SystemExit(f'no wheel of {engine}=={version} in {wheel_dir}')
    return existing[0]


def contract_path(engine, version):
    return CONTRACTS_DIR / f'{engine}-{version}.json'


def extract(engine, wheel_path, version):
    wheel = Wheel(wheel_path)
    contract = {'engine': engine, 'version': version,
                'wheel': wheel.path.name, 'wheel_sha256': wheel.sha256(),
                'extracted_by': 'tests/engine_standins/extract_contracts.py'}
    contract.update(EXTRACTORS[engine](wheel))
    return contract


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('engines', nargs='*', metavar='ENGINE',
                        help=f'any of {", ".join(ENGINES)} (default: all)')
    parser.add_argument('--wheel-dir', default=None,
                        help='where wheels are downloaded (default: a '
                        'temporary directory)')
    opts = parser.parse_args(argv)
    unknown = sorted(set(opts.engines) - set(ENGINES))
    if unknown:
        parser.error(f'unknown engine(s) {unknown}; choose from {ENGINES}')
    with tempfile.TemporaryDirectory() as tmp:
        wheel_dir = pathlib.Path(opts.wheel_dir or tmp)
        wheel_dir.mkdir(parents=True, exist_ok=True)
        for engine in opts.engines or ENGINES:
            version = pinned_version(engine)
            contract = extract(engine, download_wheel(engine, version,
                                                      wheel_dir), version)
            path = contract_path(engine, version)
            path.parent.mkdir(exist_ok=True)
            path.write_text(json.dumps(contract, indent=1) + '\n')
            count = sum(len(a['names']) for a in contract['apis'].values())
            print(f'{path.relative_to(ROOT)}: {count} names from '
                  f'{contract["wheel"]}')


if __name__ == '__main__':
    main()
