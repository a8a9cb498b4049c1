"""The engine model classes (vLLM, LMDeploy, SGLang) against engine stand-ins.

The stand-ins (tests/engine_standins/) fail on any keyword the real engine API
does not take, so these tests check both behaviour and the arguments passed.
"""
import inspect
import subprocess
import sys

import pytest

import engine_standins as standins  # loaded by tests/models/conftest.py

from opencompass.errors import ConfigError, EngineNotInstalledError
from opencompass.models import _engine_utils
from opencompass.models.sglang import SGLang, SGLangwithChatTemplate
from opencompass.models.turbomind import (TurboMindModel,
                                          TurboMindModelwithChatTemplate)
from opencompass.models.vllm import VLLM, VLLMwithChatTemplate
from opencompass.utils.run import change_accelerator

BOS = standins.BOS_ID
META = dict(round=[dict(role='HUMAN', begin='Q:', end='\n'),
                   dict(role='BOT', begin='A:', generate=True)])
ROUNDS = [dict(role='HUMAN', prompt='two plus two'),
          dict(role='BOT', prompt='')]


@pytest.fixture
def tokenizers(monkeypatch):
    """Replace the transformers tokenizer loader; record what was loaded."""
    loaded = []

    def fake_loader(path, **kwargs):
        loaded.append((path, kwargs))
        return standins.FakeTokenizer(path)

    monkeypatch.setattr(_engine_utils, 'load_hf_tokenizer', fake_loader)
    return loaded


@pytest.fixture
def vllm(monkeypatch):
    return standins.install(monkeypatch, 'vllm')


@pytest.fixture
def lmdeploy(monkeypatch, tokenizers):
    return standins.install(monkeypatch, 'lmdeploy')


@pytest.fixture
def sglang(monkeypatch, tokenizers):
    return standins.install(monkeypatch, 'sglang')


def _decode(model, ids):
    return model.tokenizer.decode(ids)


# ---- vLLM -------------------------------------------------------------------
def test_vllm_builds_llm_exactly_as_configured(vllm):
    VLLM('org/m', model_kwargs=dict(tensor_parallel_size=2,
                                    max_model_len=4096))
    assert vllm.LLM.instances[0].init_kwargs == {
        'model': 'org/m', 'tensor_parallel_size': 2, 'max_model_len': 4096,
        'tokenizer_mode': 'hf'}


def test_vllm_is_greedy_by_default_with_explicit_temperature_zero(vllm):
    model = VLLM('m', stop_words=['\n\n'])
    model.generate(['hello'], max_out_len=7)
    [params] = vllm.LLM.instances[0].calls[0]['params']
    assert params.kwargs == {'temperature': 0.0, 'max_tokens': 7,
                             'stop': ['\n\n']}


def test_vllm_samples_only_when_configured(vllm):
    model = VLLM('m', generation_kwargs=dict(temperature=0.7, top_p=0.9,
                                             stop_token_ids=[2]))
    model.generate(['hello'], max_out_len=5)
    [params] = vllm.LLM.instances[0].calls[0]['params']
    assert (params.temperature, params.top_p, params.stop_token_ids) == (
        0.7, 0.9, [2])


def test_vllm_returns_texts_in_input_order_with_end_str_cut(vllm):
    model = VLLM('m', end_str=' and')
    out = model.generate(['one', 'two two two', 'three three'], max_out_len=9)
    assert out == ['answer-to-one', 'answer-to-two', 'answer-to-three']


def test_vllm_generate_batch_counts_output_tokens_from_the_engine(vllm):
    model = VLLM('m')
    [gen] = model.generate_batch(['hi'], max_out_len=2)
    assert (gen.text, gen.out_tokens) == ('answer-to-hi and', 2)


def test_vllm_base_renders_meta_template_and_sends_token_ids(vllm):
    model = VLLM('m', meta_template=META)
    model.generate([ROUNDS], max_out_len=4)
    [prompt] = vllm.LLM.instances[0].calls[0]['prompts']
    assert prompt['prompt_token_ids'][0] == BOS
    assert _decode(model, prompt['prompt_token_ids']) == '<s> Q:two plus two A:'


def test_vllm_chat_applies_chat_template_with_a_single_bos(vllm):
    model = VLLMwithChatTemplate('m')
    model.generate([ROUNDS], max_out_len=4)
    ids = vllm.LLM.instances[0].calls[0]['prompts'][0]['prompt_token_ids']
    assert _decode(model, ids) == '<s> <|user|> two plus two <|assistant|>'
    assert ids.count(BOS) == 1


def test_vllm_cuts_a_long_prompt_from_the_left(vllm):
    model = VLLM('m', max_seq_len=6)
    model.generate(['a b c d e f g'], max_out_len=2)
    ids = vllm.LLM.instances[0].calls[0]['prompts'][0]['prompt_token_ids']
    assert _decode(model, ids) == 'd e f g'
    assert model.truncated == 1


def test_vllm_get_ppl_is_mean_nll_of_prompt_tokens_after_the_mask(vllm):
    model = VLLM('m')
    ppl, masked = model.get_ppl(['a b c', 'a b c'], mask_length=[0, 3])
    lp = vllm.prompt_logprob  # tokens: <s> a b c -> positions 1..3 scored
    assert ppl == pytest.approx(-(lp(1) + lp(2) + lp(3)) / 3)
    assert masked == pytest.approx(-lp(3))
    params = vllm.LLM.instances[0].calls[0]['params']
    assert (params.prompt_logprobs, params.max_tokens) == (1, 1)


def test_vllm_chat_does_not_score_perplexity(vllm):
    with pytest.raises(ConfigError, match='base model'):
        VLLMwithChatTemplate('m').get_ppl(['x'])


def test_vllm_lora_enables_lora_and_sends_the_adapter(vllm):
    model = VLLM('m', lora_path='/adapters/a')
    model.generate(['x'], max_out_len=2)
    llm = vllm.LLM.instances[0]
    assert llm.init_kwargs['enable_lora'] is True
    assert llm.calls[0]['lora_request'].lora_path == '/adapters/a'


def test_vllm_counts_tokens_with_the_engine_tokenizer(vllm):
    assert VLLM('m').get_token_len('a b c') == 4  # BOS + 3 words


def test_vllm_stand_in_rejects_a_keyword_vllm_does_not_take(vllm):
    with pytest.raises(TypeError, match='device_map'):
        VLLM('m', model_kwargs=dict(device_map='auto'))


def test_vllm_tokenizer_only_does_not_build_the_engine(vllm, tokenizers):
    model = VLLM('m', tokenizer_only=True,
                 model_kwargs=dict(tokenizer='tok', trust_remote_code=True))
    assert vllm.LLM.instances == [] and model.get_token_len('a') == 2
    assert tokenizers == [('tok', {'trust_remote_code': True})]


# ---- LMDeploy ---------------------------------------------------------------
def test_lmdeploy_builds_pipeline_exactly_as_configured(lmdeploy, tokenizers):
    TurboMindModel('org/m', engine_config=dict(tp=2, session_len=4096,
                                               max_batch_size=8),
                   tokenizer_path='org/tok',
                   tokenizer_kwargs=dict(use_fast=False))
    pipe = lmdeploy.pipeline.instances[0]
    assert pipe.model_path == 'org/m'
    config = pipe.init_kwargs['backend_config']
    assert isinstance(config, lmdeploy.TurbomindEngineConfig)
    assert config.kwargs == dict(tp=2, session_len=4096, max_batch_size=8)
    assert 'trust_remote_code' not in pipe.init_kwargs
    assert tokenizers == [('org/tok', {'use_fast': False})]


def test_lmdeploy_pytorch_backend_and_trust_remote_code(lmdeploy):
    TurboMindModel('m', engine_config=dict(tp=1), backend='pytorch',
                   trust_remote_code=True)
    pipe = lmdeploy.pipeline.instances[0]
    assert isinstance(pipe.init_kwargs['backend_config'],
                      lmdeploy.PytorchEngineConfig)
    assert pipe.init_kwargs['trust_remote_code'] is True


def test_lmdeploy_greedy_gen_config_by_default(lmdeploy):
    model = TurboMindModel('m', stop_words=['STOP'])
    model.generate(['x'], max_out_len=9)
    call = lmdeploy.pipeline.instances[0].calls[0]
    [gen] = call['gen_config']
    assert gen.kwargs == dict(do_sample=False, top_k=1, max_new_tokens=9,
                              stop_words=['STOP'])
    assert call['do_preprocess'] is False


def test_lmdeploy_sampling_gen_config_replaces_greedy_defaults(lmdeploy):
    model = TurboMindModel('m', gen_config=dict(do_sample=True,
                                                temperature=0.7))
    model.generate(['x'], max_out_len=3)
    [gen] = lmdeploy.pipeline.instances[0].calls[0]['gen_config']
    assert gen.kwargs == dict(do_sample=True, temperature=0.7,
                              max_new_tokens=3)


def test_lmdeploy_chat_renders_chat_template_and_cuts_stop_words(lmdeploy):
    model = TurboMindModelwithChatTemplate('m', stop_words=[' and'])
    out = model.generate([ROUNDS, 'hi'], max_out_len=9)
    prompts = lmdeploy.pipeline.instances[0].calls[0]['prompts']
    assert prompts[0] == '<s> <|user|> two plus two <|assistant|>'
    assert out == ['answer-to-<|assistant|>', 'answer-to-<|assistant|>']


def test_lmdeploy_base_output_tokens_order_and_end_str(lmdeploy):
    model = TurboMindModel('m', meta_template=META, end_str=' more')
    gens = model.generate_batch([ROUNDS, 'b b'], max_out_len=9)
    assert [g.text for g in gens] == ['answer-to-A: and', 'answer-to-b and']
    assert [g.out_tokens for g in gens] == [4, 4]


def test_lmdeploy_cuts_a_long_prompt_from_the_left(lmdeploy):
    model = TurboMindModel('m', max_seq_len=5)
    model.generate(['a b c d e f'], max_out_len=2)
    assert lmdeploy.pipeline.instances[0].calls[0]['prompts'] == ['d e f']


def test_lmdeploy_close_closes_the_pipeline(lmdeploy):
    model = TurboMindModel('m')
    pipe = lmdeploy.pipeline.instances[0]
    model.close()
    assert pipe.closed and model.pipe is None


# ---- SGLang -----------------------------------------------------------------
def test_sglang_builds_engine_exactly_as_configured(sglang, tokenizers):
    SGLang('org/m', model_kwargs=dict(tp_size=2, context_length=4096),
           tokenizer_path='org/tok')
    assert sglang.Engine.instances[0].init_kwargs == dict(
        model_path='org/m', tp_size=2, context_length=4096,
        tokenizer_path='org/tok')
    assert tokenizers == [('org/tok', {})]


def test_sglang_is_greedy_by_default_and_sends_token_ids(sglang):
    model = SGLang('m', stop_words=['\n\n'])
    model.generate(['hello'], max_out_len=6)
    call = sglang.Engine.instances[0].calls[0]
    assert call['sampling_params'] == [dict(temperature=0.0,
                                            max_new_tokens=6, stop=['\n\n'])]
    assert call['prompt'] is None
    assert _decode(model, call['input_ids'][0]) == '<s> hello'


def test_sglang_samples_only_when_configured(sglang):
    model = SGLang('m', generation_kwargs=dict(temperature=0.8, top_k=20))
    model.generate(['x'], max_out_len=2)
    [params] = sglang.Engine.instances[0].calls[0]['sampling_params']
    assert (params['temperature'], params['top_k']) == (0.8, 20)


def test_sglang_chat_outputs_in_order_with_stops_cut(sglang):
    model = SGLangwithChatTemplate('m', stop_words=[' more'], end_str=' and')
    gens = model.generate_batch(['x', ROUNDS], max_out_len=9)
    ids = sglang.Engine.instances[0].calls[0]['input_ids'][1]
    assert _decode(model, ids) == '<s> <|user|> two plus two <|assistant|>'
    assert [g.text for g in gens] == ['answer-to-<|assistant|>'] * 2
    assert [g.out_tokens for g in gens] == [2, 2]  # engine cut at ' more'


def test_sglang_close_shuts_the_engine_down(sglang):
    model = SGLang('m')
    engine = sglang.Engine.instances[0]
    model.close()
    assert engine.shut_down and model.engine is None


# ---- common -----------------------------------------------------------------
@pytest.mark.parametrize('cls, module, requirement', [
    (VLLM, 'vllm', 'vllm'), (VLLMwithChatTemplate, 'vllm', 'vllm'),
    (TurboMindModel, 'lmdeploy', 'lmdeploy'),
    (TurboMindModelwithChatTemplate, 'lmdeploy', 'lmdeploy'),
    (SGLang, 'sglang', 'sglang'), (SGLangwithChatTemplate, 'sglang', 'sglang')])
def test_missing_engine_names_the_pip_command(monkeypatch, tokenizers, cls,
                                              module, requirement):
    monkeypatch.setitem(sys.modules, module, None)  # makes `import` fail
    with pytest.raises(EngineNotInstalledError) as err:
        cls('m')
    assert f'pip install -r requirements/{requirement}.txt' in str(err.value)


@pytest.mark.parametrize('module, engine', [
    ('opencompass.models.vllm', 'vllm'),
    ('opencompass.models.turbomind', 'lmdeploy'),
    ('opencompass.models.sglang', 'sglang')])
def test_importing_a_backend_module_imports_no_engine(module, engine):
    code = (f'import sys, {module}; '
            f'print(sorted(m for m in ("{engine}", "torch", "transformers") '
            'if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == '[]'


HF_BASE = dict(type='HuggingFaceBaseModel', abbr='m-hf', path='org/m',
               max_seq_len=64, max_out_len=8, batch_size=4,
               meta_template=META, end_str=' more',
               model_kwargs=dict(torch_dtype='auto', trust_remote_code=True),
               generation_kwargs=dict(eos_token_id=7),
               run_cfg=dict(num_gpus=1))
HF_CHAT = dict(type='HuggingFacewithChatTemplate', abbr='m-hf', path='org/m',
               max_seq_len=64, max_out_len=8, batch_size=4,
               stop_words=[' more'], tokenizer_path='org/m',
               tokenizer_kwargs=dict(padding_side='left'),
               generation_kwargs=dict(do_sample=False),
               run_cfg=dict(num_gpus=2))


def _build_like_the_framework(cfg):
    """Build a converted dict as the infer task does: drop framework keys,
    pass batch_size/max_out_len only where the constructor names them."""
    from opencompass.registry import resolve_type
    cfg = dict(cfg)
    cls = resolve_type(cfg.pop('type'))
    for key in ('abbr', 'run_cfg', 'summarizer_abbr', 'pred_postprocessor'):
        cfg.pop(key, None)
    params = inspect.signature(cls).parameters
    for key in ('batch_size', 'max_out_len'):
        if key not in params:
            cfg.pop(key, None)
    return cls(**cfg)


def _engine_tp(engine, backend):
    """The tensor-parallel size the stand-in engine was built with."""
    if backend == 'vllm':
        return engine.LLM.instances[0].init_kwargs['tensor_parallel_size']
    if backend == 'lmdeploy':
        config = engine.pipeline.instances[0].init_kwargs['backend_config']
        # TurbomindEngineConfig ignores unknown keys: none may be sent
        assert config.ignored == []
        return config.kwargs['tp']
    return engine.Engine.instances[0].init_kwargs['tp_size']


@pytest.mark.parametrize('backend', ['vllm', 'lmdeploy', 'sglang'])
@pytest.mark.parametrize('hf', [HF_BASE, HF_CHAT], ids=['base', 'chat'])
def test_converted_dicts_build_and_generate_on_the_stand_ins(
        monkeypatch, tokenizers, backend, hf):
    engine = standins.install(monkeypatch, backend)
    [cfg] = change_accelerator([hf], backend)
    model = _build_like_the_framework(cfg)
    out = model.generate([ROUNDS], max_out_len=8)
    last = 'A:' if hf is HF_BASE else '<|assistant|>'
    assert out == [f'answer-to-{last} and']  # cut at ' more' (end/stop word)
    assert _engine_tp(engine, backend) == hf['run_cfg']['num_gpus']


@pytest.mark.parametrize('backend', ['vllm', 'lmdeploy', 'sglang'])
def test_embedded_paths_reach_the_engine_as_a_checkpoint_dir(
        monkeypatch, tokenizers, backend):
    from opencompass.utils import embedded
    monkeypatch.setattr(embedded, 'resolve_model_path',
                        lambda p: p.replace('embedded://', '/cache/'))
    engine = standins.install(monkeypatch, backend)
    [cfg] = change_accelerator([dict(HF_CHAT, path='embedded://tiny',
                                     tokenizer_path=None)], backend)
    _build_like_the_framework(cfg)
    if backend == 'vllm':
        assert engine.LLM.instances[0].init_kwargs['model'] == '/cache/tiny'
    elif backend == 'lmdeploy':
        assert engine.pipeline.instances[0].model_path == '/cache/tiny'
    else:
        assert engine.Engine.instances[0].init_kwargs[
            'model_path'] == '/cache/tiny'
