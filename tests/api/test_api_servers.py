"""Engine strategies: detection by probing, context length, overflow shapes."""
import json

import pytest
from fault_server import FaultServer, overflow_answer

from opencompass.errors import ServerError, UnknownNameError
from opencompass.models import api_servers
from opencompass.models.openai_api import OpenAISDK


def _probe(srv, server_type=None):
    model = OpenAISDK(openai_api_base=srv.base_url)
    return api_servers.probe(srv.base_url, lambda url: model._sync_get(
        url, required=url.endswith('/models')), server_type)


@pytest.mark.parametrize('engine,expected,context', [
    ('vllm', 'vllm', 4096),
    ('sglang', 'sglang', 4096),
    ('sglang-old', 'sglang', 4096),          # from /get_server_info
    ('lmdeploy', 'lmdeploy', None),          # not exposed: config decides
    ('llama.cpp', 'llama.cpp', 4096),        # /props n_ctx, not n_ctx_train
    ('llama-cpp-python', 'llama-cpp-python', None),
    ('transformers', 'transformers', None),  # served id is not a local dir
    ('generic', 'generic', None),
])
def test_probe_detects_engine_and_context(engine, expected, context):
    with FaultServer(engine, max_model_len=4096) as srv:
        info, strategy = _probe(srv)
    assert strategy.name == expected
    assert strategy.context_length(info, 'fake-model') == context


def test_probe_asks_only_what_it_needs():
    """vLLM's listing says it all: no native endpoint is probed."""
    with FaultServer('vllm') as srv:
        _probe(srv)
        assert srv.gets == ['/v1/models']
    with FaultServer('generic') as srv:  # unknown owner: bounded extra probes
        _probe(srv)
        assert srv.gets == ['/v1/models', '/props', '/get_server_info']


def test_server_type_forces_the_strategy():
    with FaultServer('generic') as srv:
        _, strategy = _probe(srv, server_type='vLLM')
    assert strategy.name == 'vllm'


def test_unknown_server_type_lists_the_known_ones():
    with pytest.raises(UnknownNameError) as err:
        api_servers.get_strategy('tgi')
    for name in ('vllm', 'sglang', 'lmdeploy', 'llama.cpp', 'llama-cpp-python',
                 'transformers', 'generic'):
        assert name in str(err.value)


@pytest.mark.parametrize('alias,name', [
    ('llamacpp', 'llama.cpp'), ('llama-server', 'llama.cpp'),
    ('llama_cpp_python', 'llama-cpp-python'), ('transformers-serve', 'transformers'),
    ('openai', 'generic'), ('SGLang', 'sglang')])
def test_aliases(alias, name):
    assert api_servers.get_strategy(alias).name == name


def test_transformers_context_from_local_checkpoint(tmp_path):
    (tmp_path / 'config.json').write_text(json.dumps(
        {'max_position_embeddings': 8192}))
    info = api_servers.ServerInfo('http://x/v1', [{'id': str(tmp_path)}])
    assert api_servers.TransformersStrategy().context_length(
        info, str(tmp_path)) == 8192


def test_llama_cpp_ignores_training_length():
    info = api_servers.ServerInfo('http://x/v1', [
        {'id': 'm', 'owned_by': 'llamacpp', 'meta': {'n_ctx_train': 131072}}])
    assert api_servers.LlamaCppStrategy().context_length(info) is None
    info.extra['props'] = {'default_generation_settings': {'n_ctx': 4096}}
    assert api_servers.LlamaCppStrategy().context_length(info) == 4096


def test_unreachable_server_is_one_clear_line():
    model = OpenAISDK(openai_api_base='http://127.0.0.1:9/v1')
    with pytest.raises(ServerError) as err:
        model._setup()
    msg = str(err.value)
    assert '\n' not in msg
    assert 'http://127.0.0.1:9/v1/models' in msg
    assert 'start the server or pass --api-base' in msg


OVERFLOW_CASES = [  # (strategy, error shape)
    ('vllm', 'vllm'), ('vllm', 'vllm-max-tokens'), ('vllm', 'vllm-decoder'),
    ('sglang', 'sglang'), ('lmdeploy', 'lmdeploy'), ('llama.cpp', 'llama.cpp'),
    ('llama-cpp-python', 'llama-cpp-python')]


@pytest.mark.parametrize('engine,kind', OVERFLOW_CASES)
def test_each_engine_reads_its_overflow_shape(engine, kind):
    status, body = overflow_answer(kind, prompt=3001, limit=2048, completion=8)
    overflow = api_servers.get_strategy(engine).overflow_from_error(
        status, json.dumps(body))
    assert overflow is not None
    assert (overflow.prompt_tokens, overflow.limit) == (3001, 2048)


@pytest.mark.parametrize('kind', [k for _, k in OVERFLOW_CASES])
def test_generic_strategy_reads_every_overflow_shape(kind):
    status, body = overflow_answer(kind, prompt=3001, limit=2048)
    overflow = api_servers.ServerStrategy().overflow_from_error(
        status, json.dumps(body))
    assert overflow is not None and overflow.limit == 2048


@pytest.mark.parametrize('status,body', [
    (400, {'error': {'message': 'temperature must be non-negative'}}),
    (500, {'error': {'message': 'engine hiccup'}}),
    (422, {'detail': "Unexpected fields in the request: {'foo'}"}),
    (200, {'error': {'message': "maximum context length is 10"}}),
])
def test_other_errors_are_not_overflow(status, body):
    for cls in api_servers.STRATEGIES:
        assert cls().overflow_from_error(status, json.dumps(body)) is None


def test_lmdeploy_old_empty_length_answer_is_overflow():
    lmdeploy = api_servers.LMDeployStrategy()
    found = lmdeploy.overflow_from_response('', 'length', 0, 5000)
    assert found is not None and found.prompt_tokens == 5000
    assert lmdeploy.overflow_from_response('42', 'length', 3) is None
    assert lmdeploy.overflow_from_response('', 'stop', 0) is None
    assert api_servers.VLLMStrategy().overflow_from_response(
        '', 'length', 0) is None


def test_request_extras_per_engine():
    params = {'top_k': 1, 'repetition_penalty': 1.05}
    assert api_servers.get_strategy('llama-cpp-python').request_extras({}) == {
        'repeat_penalty': 1.0}
    assert api_servers.get_strategy('llama.cpp').request_extras(params) == {
        'top_k': 1, 'repeat_penalty': 1.05}
    assert api_servers.get_strategy('vllm').request_extras(params) == params
    # #11: greedy requests carry repetition_penalty=1 to vLLM and SGLang,
    # which would otherwise apply the checkpoint's generation_config.json
    for name in ('vllm', 'sglang'):
        strategy = api_servers.get_strategy(name)
        assert strategy.request_extras({}, greedy=True) == {
            'repetition_penalty': 1.0}
        assert strategy.request_extras({'min_new_tokens': 3}) == {
            'min_tokens': 3}
        assert strategy.sends('min_new_tokens') and strategy.sends('top_k')
    # transformers serve answers 422 to any unknown field (measured)
    assert api_servers.get_strategy('transformers').request_extras(params) == {}


def test_ppl_capability_per_engine():
    can = {cls.name: cls.ppl_method for cls in api_servers.STRATEGIES}
    assert can['vllm'] == 'echo' and can['sglang'] == 'sglang'
    for name in ('lmdeploy', 'llama.cpp', 'llama-cpp-python', 'transformers'):
        assert can[name] is None
        assert api_servers.get_strategy(name).ppl_refusal
