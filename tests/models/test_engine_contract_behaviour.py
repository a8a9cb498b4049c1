"""What the pinned engines do (modelled by the contract-driven stand-ins) and
how each backend copes: the findings of the engine contracts, one test each.

Each engine behaviour is read in the pinned release's source; the stand-in
modules cite the file. `#N` is the finding's number in the issue.
"""
import json
import logging

import pytest

import engine_standins as standins  # loaded by tests/models/conftest.py

from opencompass.models import _engine_utils
from opencompass.models import base
from opencompass.models.sglang import SGLang
from opencompass.models.turbomind import (TurboMindModel,
                                          TurboMindModelwithChatTemplate)
from opencompass.models.vllm import VLLM, VLLMwithChatTemplate
from opencompass.registry import resolve_type
from opencompass.utils.run import change_accelerator

BOS = standins.BOS_ID


@pytest.fixture
def tokenizers(monkeypatch):
    monkeypatch.setattr(_engine_utils, 'load_hf_tokenizer',
                        lambda path, **kw: standins.FakeTokenizer(path))


@pytest.fixture
def vllm(monkeypatch):
    return standins.install(monkeypatch, 'vllm')


@pytest.fixture
def sglang(monkeypatch, tokenizers):
    return standins.install(monkeypatch, 'sglang')


@pytest.fixture
def lmdeploy(monkeypatch, tokenizers):
    return standins.install(monkeypatch, 'lmdeploy')


def checkpoint(tmp_path, name='ckpt', **config):
    """A local checkpoint directory with a config.json."""
    path = tmp_path / name
    path.mkdir()
    (path / 'config.json').write_text(json.dumps(config))
    return str(path)


def build(cfg):
    """A converted dict built as the infer task builds it."""
    cfg = dict(cfg)
    cls = resolve_type(cfg.pop('type'))
    for key in ('abbr', 'run_cfg', 'batch_size', 'max_out_len'):
        cfg.pop(key, None)
    return cls(**cfg)


def hf_chat(**fields):
    return {**dict(type='HuggingFacewithChatTemplate', abbr='m-hf',
                   path='org/m', max_seq_len=64, max_out_len=8, batch_size=4),
            **fields}


def words(n):
    return ' '.join(f'w{i}' for i in range(n))


# ---- the shared fitting rule (#3) ---------------------------------------------
@pytest.mark.parametrize('n, max_out, ctx, kept, max_new', [
    (10, 4, 16, 10, 4),     # fits: untouched
    (20, 4, 16, 12, 4),     # cut to ctx - max_out
    (12, 4, 16, 12, 4),     # exactly prompt + output = ctx
    (10, 16, 16, 8, 8),     # max_out >= ctx: the prompt keeps half
    (3, 100, 16, 3, 13),    # short prompt: the output takes the rest
])
def test_fit_to_context_never_reaches_the_engines_edge(n, max_out, ctx, kept,
                                                       max_new):
    ids, new = base.fit_to_context(list(range(n)), max_out, ctx)
    assert (len(ids), new) == (kept, max_new)
    assert ids == list(range(n))[n - kept:]
    assert len(ids) < ctx and len(ids) + new <= ctx


# ---- vLLM ---------------------------------------------------------------------
def test_1_use_fast_false_builds_on_vllm(vllm):
    """vLLM 0.33 has no 'slow' tokenizer mode: the engine refused to start."""
    [cfg] = change_accelerator([hf_chat(tokenizer_kwargs=dict(
        use_fast=False))], 'vllm')
    build(cfg)
    assert vllm.LLM.instances[0].tokenizer_mode == 'hf'


def test_vllm_stand_in_refuses_a_tokenizer_mode_outside_the_registry(vllm):
    with pytest.raises(ValueError, match='No tokenizer registered'):
        VLLM('m', model_kwargs=dict(tokenizer_mode='slow'))


def test_2_vllm_scoring_never_reads_prompt_logprobs_from_the_prefix_cache(
        vllm):
    VLLM('m').get_ppl(['a b c'])
    params = vllm.LLM.instances[0].calls[0]['params']
    assert params.kwargs['skip_reading_prefix_cache'] is True


@pytest.mark.parametrize('max_out_len', [6, 8, 12])
def test_3_vllm_fits_prompt_and_output_when_max_out_len_reaches_max_seq_len(
        vllm, max_out_len):
    model = VLLM('m', max_seq_len=8, model_kwargs=dict(max_model_len=8))
    [out] = model.generate([words(20)], max_out_len=max_out_len)
    assert out.startswith('answer-to-w19')
    [[params], [prompt]] = [vllm.LLM.instances[0].calls[0][k]
                            for k in ('params', 'prompts')]
    assert len(prompt['prompt_token_ids']) + params.max_tokens <= 8


def test_3_vllm_prompt_of_exactly_max_model_len_is_refused_by_the_stand_in(
        vllm):
    llm = vllm.LLM('m', max_model_len=4)
    with pytest.raises(ValueError, match='at least 1'):
        llm.generate([{'prompt_token_ids': [1, 2, 3, 4]}],
                     vllm.SamplingParams(max_tokens=1))


def test_4_vllm_clamps_max_model_len_to_the_checkpoint(vllm, tmp_path,
                                                       caplog):
    path = checkpoint(tmp_path, max_position_embeddings=32)
    [cfg] = change_accelerator([hf_chat(path=path, max_seq_len=4096)],
                               'vllm')
    with caplog.at_level(logging.WARNING):
        model = build(cfg)
    assert vllm.LLM.instances[0].init_kwargs['max_model_len'] == 32
    assert model.max_seq_len == 32
    assert 'max_model_len=4096' in caplog.text and '32' in caplog.text


def test_4_a_rope_scaled_checkpoint_is_left_to_the_engine(tmp_path):
    path = checkpoint(tmp_path, max_position_embeddings=32768,
                      rope_scaling={'type': 'yarn', 'factor': 4.0})
    assert _engine_utils.checkpoint_context_length(path) is None
    plain = checkpoint(tmp_path, 'plain', max_position_embeddings=4096,
                       text_config={'max_position_embeddings': 2048})
    assert _engine_utils.checkpoint_context_length(plain) == 2048


def test_5_vllm_lora_rank_comes_from_the_adapter(vllm, tmp_path):
    adapter = tmp_path / 'adapter'
    adapter.mkdir()
    (adapter / 'adapter_config.json').write_text(json.dumps({'r': 64}))
    [cfg] = change_accelerator([hf_chat(peft_path=str(adapter))], 'vllm')
    model = build(cfg)
    model.generate(['x'], max_out_len=2)
    assert vllm.LLM.instances[0].init_kwargs['max_lora_rank'] == 64


def test_5_vllm_lora_rank_rounds_up_to_one_vllm_accepts(vllm, tmp_path):
    adapter = tmp_path / 'adapter'
    adapter.mkdir()
    (adapter / 'adapter_config.json').write_text(json.dumps({'r': 48}))
    VLLM('m', lora_path=str(adapter)).generate(['x'], max_out_len=2)
    assert vllm.LLM.instances[0].init_kwargs['max_lora_rank'] == 64


def test_10_vllm_chat_on_a_mistral_format_repo_keeps_special_tokens(
        vllm, tmp_path):
    path = checkpoint(tmp_path, max_position_embeddings=4096)
    (tmp_path / 'ckpt' / 'tekken.json').write_text('{}')
    model = VLLMwithChatTemplate(path)
    model.generate(['hi'], max_out_len=2)
    ids = vllm.LLM.instances[0].calls[0]['prompts'][0]['prompt_token_ids']
    assert ids.count(BOS) == 1
    assert vllm.LLM.instances[0].tokenizer_mode == 'hf'


# ---- SGLang -------------------------------------------------------------------
def test_3_sglang_input_plus_max_new_tokens_stays_inside_the_context(sglang):
    model = SGLang('m', max_seq_len=8, model_kwargs=dict(context_length=8))
    out = model.generate(['a b', words(20)], max_out_len=8)
    assert out[0].startswith('answer-to-b') and out[1].startswith(
        'answer-to-w19')
    call = sglang.Engine.instances[0].calls[0]
    for ids, params in zip(call['input_ids'], call['sampling_params']):
        assert len(ids) + params['max_new_tokens'] <= 8


def test_4_sglang_clamps_context_length_to_the_checkpoint(sglang, tmp_path):
    path = checkpoint(tmp_path, max_position_embeddings=32)
    [cfg] = change_accelerator([hf_chat(path=path, max_seq_len=4096)],
                               'sglang')
    build(cfg)
    assert sglang.Engine.instances[0].init_kwargs['context_length'] == 32


def test_6_sglang_seed_goes_under_the_pinned_releases_key(sglang):
    [cfg] = change_accelerator([hf_chat(generation_kwargs=dict(seed=5))],
                               'sglang')
    build(cfg).generate(['x'], max_out_len=2)
    [params] = sglang.Engine.instances[0].calls[0]['sampling_params']
    assert params['sampling_seed'] == 5


def test_12_sglang_scores_perplexity_from_input_logprobs(sglang):
    model = SGLang('m')
    full, masked = model.get_ppl(['a b c', 'a b c'], mask_length=[0, 3])
    lp = standins.fake_vllm.prompt_logprob  # tokens <s> a b c: 1..3 scored
    assert full == pytest.approx(-(lp(1) + lp(2) + lp(3)) / 3)
    assert masked == pytest.approx(-lp(3))
    call = sglang.Engine.instances[0].calls[0]
    assert (call['return_logprob'], call['logprob_start_len']) == (True, 0)


# ---- LMDeploy -----------------------------------------------------------------
def test_7_lmdeploy_greedy_keeps_the_repetition_penalty(lmdeploy):
    [cfg] = change_accelerator([hf_chat(generation_kwargs=dict(
        repetition_penalty=1.1, min_new_tokens=2))], 'lmdeploy')
    build(cfg).generate(['x'], max_out_len=4)
    [used] = lmdeploy.pipeline.instances[0].effective
    assert (used['repetition_penalty'], used['top_k']) == (1.1, 1)
    assert used['min_new_tokens'] == 2


def test_7_lmdeploy_plain_greedy_stays_greedy(lmdeploy):
    TurboMindModel('m').generate(['x'], max_out_len=4)
    [used] = lmdeploy.pipeline.instances[0].effective
    assert (used['do_sample'], used['top_k'], used['repetition_penalty']) == (
        False, 1, 1.0)


def test_8_lmdeploy_cuts_the_datasets_multi_token_stop_strings(lmdeploy):
    model = TurboMindModel('m')
    [out] = model.generate(['x'], max_out_len=9,
                           stopping_criteria=['and more'])
    assert out == 'answer-to-x '
    # the engine ignored it: more than one token
    assert lmdeploy.pipeline.instances[0].effective[0]['stop_token_ids'] == []


def test_8_every_backend_cuts_at_the_same_stops(monkeypatch, tokenizers):
    outs = {}
    for backend in ('vllm', 'sglang', 'lmdeploy'):
        standins.install(monkeypatch, backend)
        [cfg] = change_accelerator([hf_chat(stop_words=['more'])], backend)
        [outs[backend]] = build(cfg).generate(
            ['x'], max_out_len=9, stopping_criteria=['and'])
    # LMDeploy stops at the one-token stop itself, so no trailing space
    assert {out.strip() for out in outs.values()} == {
        'answer-to-<|assistant|>'}


def test_9_lmdeploy_error_response_is_a_failed_sample(lmdeploy):
    model = TurboMindModel('m', max_seq_len=100,
                           engine_config=dict(session_len=5))
    [(index, gen)] = list(model.generate_iter([words(10)], max_out_len=4))
    assert index == 0 and gen.text == ''
    assert gen.error.startswith('LMDeploy: Input length (11)')


def test_12_lmdeploy_scores_perplexity_with_the_context_masked(lmdeploy):
    model = TurboMindModel('m')
    full, masked = model.get_ppl(['a b c', 'a b c'], mask_length=[0, 3])
    lp = standins.fake_vllm.prompt_logprob
    assert full == pytest.approx(-(lp(1) + lp(2) + lp(3)) / 3)
    assert masked == pytest.approx(-lp(3))


def test_12_lmdeploy_perplexity_with_prefix_caching_is_a_clear_error(
        lmdeploy):
    from opencompass.errors import OpenCompassError
    model = TurboMindModelwithChatTemplate(
        'm', engine_config=dict(enable_prefix_caching=True))
    with pytest.raises(OpenCompassError, match='prefix caching'):
        model.get_ppl(['a b'])


def test_turbomind_engine_config_ignores_unknown_keys_like_lmdeploy(lmdeploy):
    """So the contract test of the converter's keys is the only check."""
    config = lmdeploy.TurbomindEngineConfig(tp=1, no_such_key=2)
    assert config.ignored == ['no_such_key']
    with pytest.raises(TypeError):
        lmdeploy.PytorchEngineConfig(no_such_key=2)
