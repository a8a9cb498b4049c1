"""The engine contracts: pinned versions, extracted files and what the project
sends, checked against each other (no engine is downloaded or imported).

contracts/<engine>-<version>.json are written by
tests/engine_standins/extract_contracts.py from the pinned release's wheel.
"""
import ast
import json
import pathlib

import pytest
from packaging.specifiers import SpecifierSet

from engine_standins import contract  # loaded by tests/models/conftest.py
from engine_standins import extract_contracts as extract

from opencompass.models import vllm as vllm_model
from opencompass.utils.run import change_accelerator

ENGINES = ('vllm', 'sglang', 'lmdeploy')
CONTRACTS = pathlib.Path(extract.__file__).parent / 'contracts'


def _contract_versions(engine):
    return sorted(p.stem.split('-', 1)[1]
                  for p in CONTRACTS.glob(f'{engine}-*.json'))


@pytest.mark.parametrize('engine', ENGINES)
def test_pin_and_contract_files_agree(engine):
    """A version bump without re-extraction fails here."""
    spec = SpecifierSet(extract.pinned_spec(engine))
    versions = _contract_versions(engine)
    assert extract.pinned_version(engine) in versions, (
        f'requirements/{engine}.txt pins {spec} but there is no contract for '
        f'{extract.pinned_version(engine)}: run extract_contracts.py {engine}')
    outside = [v for v in versions if v not in spec]
    assert not outside, f'contracts {outside} are outside the pin {spec}'
    assert any(s.operator in ('<', '<=', '==', '~=') for s in spec), (
        f'{engine}: the pin must be a closed range, not open-ended')


@pytest.mark.parametrize('engine', ENGINES)
def test_contract_names_each_carry_their_source_file(engine):
    data = contract.load(engine)
    assert data['version'] == extract.pinned_version(engine)
    assert data['wheel'].startswith(f'{engine}-{data["version"]}-')
    for api, entry in data['apis'].items():
        assert entry['names'] or entry.get('var_keyword'), api
        for name, source in entry['names'].items():
            assert source.startswith(f'{engine}/') and source.endswith('.py')


def test_extractor_reads_fields_and_params_with_ast():
    tree = ast.parse('from m import Ns\n'
                     'class C:\n'
                     '    a: int = 1\n    _p: int = 0\n'
                     '    k: ClassVar[int] = 2\n'
                     '    d: list = field(init=False)\n'
                     '    def f(self, x, *, y=1, **kw): pass\n'
                     'L = Literal["p", "q"]\nD = {"k1": 1, "k2": 2}\n'
                     'NS = [Ns]\n')
    assert extract.class_fields(extract.find_node(tree, 'C')) == ['a']
    assert extract.function_params(extract.find_node(tree, 'C.f')) == (
        ['x', 'y'], True)
    assert extract.literal_values(tree, 'L') == ['p', 'q']
    assert extract.dict_keys(tree, 'D') == ['k1', 'k2']
    assert extract.list_names(tree, 'NS') == ['Ns']
    assert extract.imported_from(tree, 'Ns') == 'm'


def test_extractor_follows_server_args_into_its_namespace_modules(tmp_path):
    """SGLang assembles ServerArgs at import from namespace classes in other
    modules; the extractor reads each field from its own file."""
    import zipfile
    wheel = tmp_path / 'sglang-0.0.1-py3-none-any.whl'
    with zipfile.ZipFile(wheel, 'w') as zf:
        zf.writestr('sglang/srt/server_args.py',
                    'from sglang.srt.fields.model import (\n    Model,\n)\n'
                    'class ServerArgs:\n    def __post_init__(self): pass\n'
                    '_INPUT_NAMESPACES = [Model]\n')
        zf.writestr('sglang/srt/fields/model.py',
                    'class Model(msgspec.Struct):\n    _NS_PATH = "model"\n'
                    '    model_path: A[str, Arg()]\n'
                    '    context_length: Optional[int] = None\n')
    args = extract.sglang_server_args(extract.Wheel(wheel))
    assert args['names'] == {'context_length': 'sglang/srt/fields/model.py',
                             'model_path': 'sglang/srt/fields/model.py'}


def test_issue_claims_hold_in_the_extracted_vllm_contract():
    """The keywords the old stand-in accepted and vLLM does not."""
    accepted = contract.names('vllm', 'LLM.__init__', 'EngineArgs')
    gone = {'task', 'swap_space', 'max_seq_len_to_capture',
            'disable_async_output_proc', 'override_pooler_config',
            'rope_scaling', 'rope_theta'}
    assert not gone & accepted
    assert 'slow' not in contract.values('vllm', 'tokenizer_mode')
    assert contract.values('vllm', 'max_lora_rank_default') == 16
    assert 'should_execute_dummy_batch' not in contract.names(
        'lmdeploy', 'PytorchEngineConfig')


def test_project_lora_ranks_are_the_pinned_vllms():
    assert list(vllm_model.LORA_RANKS) == contract.values(
        'vllm', 'max_lora_rank')


HF = dict(type='HuggingFaceBaseModel', abbr='m-hf', path='org/m',
          max_seq_len=64, max_out_len=8, batch_size=4,
          model_kwargs=dict(trust_remote_code=True, revision='main'),
          tokenizer_kwargs=dict(use_fast=False, revision='main'),
          tokenizer_path='org/tok',
          generation_kwargs=dict(do_sample=True, temperature=0.5, top_p=0.9,
                                 top_k=5, repetition_penalty=1.1, seed=3,
                                 min_new_tokens=1, eos_token_id=2),
          run_cfg=dict(num_gpus=2))


def _emitted_engine_keys(backend):
    """The engine keywords a converted dict carries, by API."""
    [cfg] = change_accelerator([HF], backend)
    if backend == 'vllm':
        return {'LLM.__init__+EngineArgs': set(cfg['model_kwargs']),
                'SamplingParams': set(cfg['generation_kwargs'])}
    if backend == 'sglang':
        return {'ServerArgs': set(cfg['model_kwargs']),
                'SamplingParams': set(cfg['generation_kwargs'])}
    return {'TurbomindEngineConfig': set(cfg['engine_config']),
            'GenerationConfig': set(cfg['gen_config'])}


@pytest.mark.parametrize('backend', ENGINES)
def test_every_setting_a_converter_emits_is_in_the_contract(backend):
    for api, keys in _emitted_engine_keys(backend).items():
        accepted = contract.names(backend, *api.split('+'))
        assert keys <= accepted, (api, sorted(keys - accepted))


def test_contract_files_record_their_provenance():
    for path in CONTRACTS.glob('*.json'):
        data = json.loads(path.read_text())
        assert set(data) >= {'engine', 'version', 'wheel', 'wheel_sha256',
                             'apis', 'values'}
