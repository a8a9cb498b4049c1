"""The API path against real servers on loopback, with the embedded SmolLM2-135M:
llama-cpp-python (one request at a time) and transformers serve (continuous
batching). Slow: each class starts its server once (see conftest)."""
import json
import pathlib
import re

import httpx
import pytest

from opencompass.errors import OpenCompassError
from opencompass.models.openai_api import OpenAISDK

pytestmark = pytest.mark.slow
GSM8K = pathlib.Path(__file__).resolve().parents[2].parent / 'shared' / 'data' / 'gsm8k'
EMBEDDED = 'embedded://smollm2-135m-instruct'


def gsm8k_prompts(n=8):
    path = GSM8K / 'test.jsonl'
    if not path.is_file():
        pytest.skip(f'{path} is missing')
    with open(path, encoding='utf-8') as f:
        rows = [json.loads(line) for line, _ in zip(f, range(n))]
    return [f"Question: {r['question']}\nLet's think step by step\nAnswer:"
            for r in rows]


def check_gsm8k_run(model, concurrency):
    """8 prompts: all answered, token counts reported, results by input index
    (two re-asked alone give the same greedy text)."""
    prompts = gsm8k_prompts()
    results = dict(model.generate_iter(prompts, 64, batch_size=concurrency))
    assert sorted(results) == list(range(len(prompts)))
    for gen in results.values():
        assert gen.error is None and gen.text.strip()
        assert 0 < gen.out_tokens <= 64
    for k in (0, 5):
        assert model.generate([prompts[k]], 64) == [results[k].text]


def server_prompt_tokens(server, messages):
    resp = httpx.post(server.base_url + '/chat/completions', timeout=120, json={
        'model': server.model, 'messages': messages, 'max_tokens': 1,
        'temperature': 0})
    return resp.json()['usage']['prompt_tokens']


class TestLlamaCppPython:
    def test_gsm8k_through_the_server(self, llama_cpp_server):
        model = OpenAISDK(openai_api_base=llama_cpp_server.base_url, concurrency=2)
        check_gsm8k_run(model, 2)
        assert model.strategy.name == 'llama-cpp-python'
        assert model.path == llama_cpp_server.model  # discovered: the GGUF path
        assert model.context_limit is None  # not exposed over HTTP

    def test_server_overflow_becomes_prompt_too_long(self, llama_cpp_server):
        model = OpenAISDK(openai_api_base=llama_cpp_server.base_url)
        results = dict(model.generate_iter(['word ' * 3000, 'Say hi.'], 8))
        err = results[0].error
        assert re.match(r'prompt of 3\d{3} tokens does not fit the context '
                        'limit of 2048 tokens', err)
        assert 'llama-cpp-python server answered HTTP 400' in err
        assert results[1].error is None

    def test_local_count_matches_and_truncation_fits(self, llama_cpp_server):
        model = OpenAISDK(openai_api_base=llama_cpp_server.base_url,
                          tokenizer_path=EMBEDDED, max_seq_len=256)
        messages = [{'role': 'user', 'content': 'What is 2+3?'}]
        assert model.get_token_len('What is 2+3?') == server_prompt_tokens(
            llama_cpp_server, messages)
        gens = dict(model.generate_iter(['word ' * 700 + '\nWhat is 2+3?'], 8))
        assert gens[0].error is None and model.truncated == 1

    def test_ppl_refused(self, llama_cpp_server):
        model = OpenAISDK(openai_api_base=llama_cpp_server.base_url, mode='base')
        with pytest.raises(OpenCompassError, match='off by one'):
            model.get_ppl(['The capital of France is Paris.'])

    def test_greedy_is_deterministic_with_repeat_penalty_one(self, llama_cpp_server):
        model = OpenAISDK(openai_api_base=llama_cpp_server.base_url, mode='base')
        first = model.generate(['The capital of France is'], 8)
        assert first == model.generate(['The capital of France is'], 8)
        assert 'Paris' in first[0]


class TestTransformersServe:
    def test_gsm8k_through_the_server(self, transformers_server):
        model = OpenAISDK(openai_api_base=transformers_server.base_url,
                          concurrency=8)
        check_gsm8k_run(model, 8)
        assert model.strategy.name == 'transformers'
        assert model.path == transformers_server.model
        # discovered from the served checkpoint's config.json
        assert model.context_limit == 8192

    def test_overflow_is_caught_before_sending(self, transformers_server):
        """transformers serve never refuses an overlong prompt (measured):
        the client must, with the tokenizer of the served checkpoint."""
        model = OpenAISDK(openai_api_base=transformers_server.base_url,
                          prompt_overflow='error')
        results = dict(model.generate_iter(['word ' * 9000], 8))
        assert results[0].error.startswith('prompt of 90')
        assert 'limit of 8192 tokens' in results[0].error

    def test_truncation_and_counting(self, transformers_server):
        model = OpenAISDK(openai_api_base=transformers_server.base_url,
                          max_seq_len=256)
        messages = [{'role': 'user', 'content': 'What is 2+3?'}]
        assert model.get_token_len('What is 2+3?') == server_prompt_tokens(
            transformers_server, messages)
        gens = dict(model.generate_iter(['word ' * 600 + '\nWhat is 2+3?'], 8))
        assert gens[0].error is None and gens[0].out_tokens >= 1
        assert model.truncated == 1

    def test_ppl_refused(self, transformers_server):
        model = OpenAISDK(openai_api_base=transformers_server.base_url, mode='base')
        with pytest.raises(OpenCompassError, match='ignores echo'):
            model.get_ppl(['The capital of France is Paris.'])
