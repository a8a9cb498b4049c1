"""OpenAISDK against the scriptable stand-in server: requests, ordering,
concurrency, prompt length policy, perplexity refusal, secrets."""
import inspect
import pathlib
import threading
import time

import pytest
from fault_server import FaultServer, WordTokenizer

from opencompass.errors import (EngineNotInstalledError, OpenCompassError,
                                ServerError)
from opencompass.models import openai_api
from opencompass.models.openai_api import OpenAI, OpenAISDK, redact_secrets

ROOT = pathlib.Path(__file__).resolve().parents[2]


def make(srv, **kw):
    model = OpenAISDK(openai_api_base=srv.base_url, **kw)
    model.retry_base = 0.01
    return model


def with_words(model):
    """Give the model the stand-in tokenizer that counts like the server."""
    model._tokenizer, model._tokenizer_tried = WordTokenizer(), True
    return model


def test_constructor_signature_is_exact():
    params = inspect.signature(OpenAISDK.__init__).parameters
    expected = dict(
        path=None, key='EMPTY', openai_api_base='http://127.0.0.1:8000/v1',
        mode='chat', tokenizer_path=None, tokenizer_kwargs=None, max_seq_len=None,
        meta_template=None, stop_words=None, generation_kwargs=None, batch_size=8,
        concurrency=None, query_per_second=None, retry=3, timeout=600,
        server_type=None, prompt_overflow='truncate', max_out_len=512)
    assert list(params)[1:] == list(expected)
    assert {k: params[k].default for k in expected} == expected


def test_flags_and_alias():
    assert OpenAI is OpenAISDK
    assert OpenAISDK().is_api and OpenAISDK().is_chat
    assert not OpenAISDK(mode='base').is_chat
    with pytest.raises(OpenCompassError):
        OpenAISDK(prompt_overflow='drop')


def test_missing_openai_names_the_requirements_file(monkeypatch):
    monkeypatch.setitem(__import__('sys').modules, 'openai', None)
    with pytest.raises(EngineNotInstalledError, match='requirements/api.txt'):
        openai_api._import_openai()


def test_requirements_file_lists_the_client():
    lines = (ROOT / 'requirements' / 'api.txt').read_text().split()
    assert any(l.startswith('openai') for l in lines)
    assert any(l.startswith('httpx') for l in lines)


def test_model_name_discovered_when_one_is_served():
    with FaultServer('vllm', models=['served-name']) as srv:
        model = make(srv)
        assert model.generate(['hi'], 8) == ['echo: hi']
        assert model.path == 'served-name'
        assert srv.requests[0]['body']['model'] == 'served-name'


def test_several_served_models_need_api_model():
    with FaultServer('vllm', models=['a', 'b']) as srv:
        with pytest.raises(ServerError, match='--api-model') as err:
            make(srv).generate(['hi'], 8)
    assert 'a, b' in str(err.value)


def test_server_probed_once_across_calls():
    with FaultServer('vllm') as srv:
        model = make(srv)
        model.generate(['one'], 8)
        model.generate(['two'], 8)
        assert srv.gets.count('/v1/models') == 1


def test_chat_mode_sends_messages_stop_words_and_greedy():
    with FaultServer('vllm') as srv:
        model = make(srv, stop_words=['<|im_end|>'], max_seq_len=None)
        model.generate([[{'role': 'SYSTEM', 'prompt': 'be brief'},
                         {'role': 'HUMAN', 'prompt': 'what is 2+3'},
                         {'role': 'BOT', 'prompt': ''}]], 32)
        req = srv.requests[0]
    assert req['path'] == '/v1/chat/completions'
    body = req['body']
    assert body['messages'] == [{'role': 'system', 'content': 'be brief'},
                                {'role': 'user', 'content': 'what is 2+3'}]
    assert body['stop'] == ['<|im_end|>']
    assert body['temperature'] == 0 and body['max_tokens'] == 32


def test_base_mode_sends_flattened_text_to_completions():
    meta = {'round': [{'role': 'HUMAN', 'begin': 'Q: ', 'end': '\n'},
                      {'role': 'BOT', 'begin': 'A:', 'generate': True}]}
    with FaultServer('vllm') as srv:
        model = make(srv, mode='base', meta_template=meta,
                     generation_kwargs={'temperature': 0.7, 'top_k': 5})
        model.generate([[{'role': 'HUMAN', 'prompt': '2+3?'},
                         {'role': 'BOT', 'prompt': ''}]], 16)
        req = srv.requests[0]
    assert req['path'] == '/v1/completions'
    assert req['body']['prompt'] == 'Q: 2+3?\nA:'
    assert req['body']['temperature'] == 0.7 and req['body']['top_k'] == 5


@pytest.mark.parametrize('server', ['vllm', 'sglang'])
def test_vllm_and_sglang_get_every_sampling_setting_of_the_hf_run(server):
    """#11: a field left out would be taken from generation_config.json."""
    with FaultServer(server) as srv:
        make(srv, generation_kwargs={'stop_token_ids': [7],
                                     'min_new_tokens': 2}).generate(['hi'], 8)
        body = srv.requests[0]['body']
    assert body['temperature'] == 0 and body['repetition_penalty'] == 1.0
    assert body['stop_token_ids'] == [7] and body['min_tokens'] == 2


def test_llama_cpp_python_gets_repeat_penalty_one():
    """Its default 1.1 would make greedy output differ from HF (SERVERS.md)."""
    with FaultServer('llama-cpp-python') as srv:
        make(srv).generate(['hi'], 8)
        assert srv.requests[0]['body']['repeat_penalty'] == 1.0


def test_transformers_gets_no_unknown_field_and_stop_is_cut_locally():
    """transformers serve answers 422 to unknown fields and ignores `stop`."""
    with FaultServer('transformers') as srv:
        model = make(srv, stop_words=['world'],
                     generation_kwargs={'top_k': 1, 'repetition_penalty': 1.1})
        assert model.generate(['hello world'], 8) == ['echo: hello ']
        body = srv.requests[0]['body']
    assert 'top_k' not in body and 'repetition_penalty' not in body


def test_generic_sends_four_stop_words_and_cuts_the_rest():
    words = ['s1', 's2', 's3', 's4', 'x5']
    with FaultServer('generic') as srv:
        model = make(srv, stop_words=words)
        assert model.generate(['a x5 b'], 8) == ['echo: a ']
        assert srv.requests[0]['body']['stop'] == words[:4]


def test_generate_keeps_input_order_iter_yields_completion_order():
    with FaultServer('vllm') as srv:
        srv.script('[slow]', 'slow:0.5')
        model = make(srv)
        prompts = ['p0 [slow]', 'p1', 'p2', 'p3']
        order = [i for i, _ in model.generate_iter(prompts, 8, batch_size=4)]
        assert order[-1] == 0 and sorted(order) == [0, 1, 2, 3]
        assert model.generate(prompts, 8) == ['echo: ' + p for p in prompts]


def test_token_counts_reported():
    with FaultServer('vllm') as srv:
        results = dict(make(srv).generate_iter(['a b c'], 8))
    assert results[0].out_tokens == 4  # 'echo: a b c'
    assert results[0].error is None


@pytest.mark.parametrize('concurrency', [1, 4])
def test_concurrency_bounds_requests_in_flight(concurrency):
    with FaultServer('vllm') as srv:
        srv.script('', *['slow:0.15'] * 8)
        model = make(srv, concurrency=concurrency)
        start = time.monotonic()
        model.generate([f'q{i}' for i in range(8)], 8)
        elapsed = time.monotonic() - start
        assert srv.max_in_flight == concurrency
    assert elapsed >= 8 / concurrency * 0.15


def test_default_concurrency_is_batch_size():
    with FaultServer('vllm') as srv:
        srv.script('', *['slow:0.1'] * 6)
        make(srv, batch_size=3).generate([f'q{i}' for i in range(6)], 8)
        assert srv.max_in_flight == 3


def test_query_per_second_spaces_request_starts():
    with FaultServer('vllm') as srv:
        make(srv, query_per_second=10, concurrency=8).generate(
            [f'q{i}' for i in range(5)], 8)
        times = sorted(r['time'] for r in srv.requests)
    assert times[-1] - times[0] >= 0.35


def test_closing_early_cancels_in_flight_requests():
    with FaultServer('vllm') as srv:
        srv.script('[slow]', 'slow:20', 'slow:20', 'slow:20')
        model = make(srv, concurrency=4)
        it = model.generate_iter(['fast', 'a [slow]', 'b [slow]', 'c [slow]'], 8)
        start = time.monotonic()
        index, gen = next(it)
        it.close()
        assert index == 0 and gen.text == 'echo: fast'
        assert time.monotonic() - start < 5
        assert not [t for t in threading.enumerate() if t.name == 'openai-api-loop']


# ---- prompt length ---------------------------------------------------------
LONG = ' '.join(f'w{i}' for i in range(100)) + ' QUESTION?'


def test_truncate_cuts_from_the_left_keeping_the_question():
    with FaultServer('vllm', max_model_len=50) as srv:
        model = with_words(make(srv, mode='base'))
        assert model.generate([LONG], 10)[0].endswith('QUESTION?')
        sent = srv.requests[0]['body']['prompt']
    assert sent.endswith('w99 QUESTION?') and len(sent.split()) <= 40
    assert model.truncated == 1


def test_max_out_len_past_the_context_still_leaves_room_for_the_prompt():
    """#3: the rule every backend uses: the answer takes at most half the
    context and max_tokens is what the prompt leaves."""
    with FaultServer('vllm', max_model_len=50) as srv:
        model = with_words(make(srv, mode='base'))
        assert model.generate([LONG], 80)[0].endswith('QUESTION?')
        body = srv.requests[0]['body']
    assert len(body['prompt'].split()) <= 25
    assert len(body['prompt'].split()) + body['max_tokens'] <= 50


def test_truncate_chat_keeps_the_last_message_end():
    messages = [{'role': 'HUMAN', 'prompt': LONG}]
    with FaultServer('vllm') as srv:
        model = with_words(make(srv, max_seq_len=60))
        model.generate([messages], 10)
        content = srv.requests[0]['body']['messages'][-1]['content']
    assert content.endswith('QUESTION?') and len(content.split()) < 50
    assert model.truncated == 1


def test_error_policy_fails_the_sample_without_a_request():
    with FaultServer('vllm') as srv:
        model = with_words(make(srv, mode='base', max_seq_len=50,
                                prompt_overflow='error'))
        results = dict(model.generate_iter([LONG, 'short one'], 10))
        assert [r['text'] for r in srv.requests] == ['short one']
    err = results[0].error
    assert 'prompt of 101 tokens' in err and 'limit of 50 tokens' in err
    assert results[1].text == 'echo: short one'


def test_max_seq_len_below_discovered_context_wins():
    with FaultServer('vllm', max_model_len=4096) as srv:
        model = make(srv, max_seq_len=1024)
        model._setup()
    assert model.context_limit == 1024


@pytest.mark.parametrize('kind', ['vllm', 'vllm-max-tokens', 'vllm-decoder',
                                  'sglang', 'lmdeploy', 'lmdeploy-old',
                                  'llama.cpp', 'llama-cpp-python'])
def test_server_overflow_is_one_message_for_every_engine(kind):
    engine = {'vllm-max-tokens': 'vllm', 'vllm-decoder': 'vllm',
              'lmdeploy-old': 'lmdeploy'}.get(kind, kind)
    with FaultServer(engine, max_model_len=2048) as srv:
        srv.script('[long]', f'overflow:{kind}')
        results = dict(make(srv).generate_iter(['a b c [long]', 'fine'], 16))
        assert srv.attempts('[long]') == 1  # not retried
    err = results[0].error
    assert err.startswith('prompt of 4 tokens does not fit the context limit of')
    if kind != 'lmdeploy-old':
        assert 'limit of 2048 tokens' in err
    assert results[1].text == 'echo: fine'


# ---- perplexity ------------------------------------------------------------
@pytest.mark.parametrize('engine', ['vllm', 'sglang'])
def test_ppl_from_real_prompt_logprobs(engine):
    with FaultServer(engine) as srv:
        model = make(srv, mode='base')
        assert model.get_ppl(['a b c d', 'e f']) == [1.0, 1.0]
        assert model.get_ppl(['a b c d'], mask_length=[2]) == [1.0]


@pytest.mark.parametrize('engine', ['llama.cpp', 'llama-cpp-python',
                                    'lmdeploy', 'transformers'])
def test_ppl_refused_without_a_request(engine):
    with FaultServer(engine) as srv:
        with pytest.raises(OpenCompassError, match='cannot score perplexity'):
            make(srv, mode='base').get_ppl(['a b c'])
        assert srv.requests == []


def test_ppl_refused_when_only_generated_tokens_are_scored():
    """An unknown server is tried, and refused when the count is short."""
    with FaultServer('generic') as srv:
        with pytest.raises(OpenCompassError, match='chance'):
            make(srv, mode='base').get_ppl(['a b c'])


def test_ppl_refused_in_chat_mode():
    with pytest.raises(OpenCompassError, match="mode='base'"):
        OpenAISDK().get_ppl(['x'])


# ---- secrets ---------------------------------------------------------------
SECRET = 'sk-test-0123456789abcdef'


def test_key_never_in_repr_logs_or_errors(caplog):
    caplog.set_level('DEBUG')
    with FaultServer('vllm') as srv:
        srv.script('[bad]', '400')  # this error echoes the Authorization header
        model = make(srv, key=SECRET)
        results = dict(model.generate_iter(['[bad]', 'fine'], 8))
        assert srv.requests[0]['body']  # the request was sent with the key
    assert SECRET not in repr(model) and model.key == '***'
    assert SECRET not in results[0].error and '***' in results[0].error
    assert '/v1/chat/completions' in caplog.text  # requests were logged
    assert SECRET not in caplog.text


def test_redact_secrets_nested_copy():
    cfg = {'models': [{'type': 'OpenAISDK', 'key': SECRET, 'path': 'm',
                       'meta': {'api_key': SECRET, 'openai_api_key': SECRET}}],
           'other': ('x', {'key': None})}
    red = redact_secrets(cfg)
    assert SECRET not in repr(red)
    assert red['models'][0]['key'] == '***' and red['models'][0]['path'] == 'm'
    assert red['models'][0]['meta'] == {'api_key': '***', 'openai_api_key': '***'}
    assert cfg['models'][0]['key'] == SECRET  # the original is untouched
    assert red['other'] == ('x', {'key': None})


def test_model_pickles_after_use():
    """Runners may ship a model to a worker process: no lock or loop inside."""
    import pickle
    with FaultServer('vllm') as srv:
        model = make(srv)
        model.generate(['a'], 8)
        clone = pickle.loads(pickle.dumps(model))
        assert clone.generate(['b'], 8) == ['echo: b']


def test_stopping_criteria_of_a_call_are_stop_words_too():
    with FaultServer('transformers') as srv:  # ignores `stop`: cut locally
        model = make(srv, stop_words=['zzz'])
        assert model.generate(['a b STOP c'], 8,
                              stopping_criteria=['STOP']) == ['echo: a b ']
        assert srv.requests[0]['body']['stop'] == ['zzz', 'STOP']
        assert 'stopping_criteria' not in srv.requests[0]['body']
