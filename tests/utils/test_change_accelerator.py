"""`change_accelerator`: HF model dicts rewritten for vLLM, LMDeploy, SGLang and
an OpenAI-compatible server. One test per rule, then the field table."""
import copy
import dataclasses
import logging
import subprocess
import sys
import textwrap

import pytest

from opencompass.errors import (OpenCompassError, UnknownModelTypeError,
                                UnknownNameError)
from opencompass.utils import run
from opencompass.utils.run import change_accelerator

BACKENDS = ('vllm', 'lmdeploy', 'sglang', 'openai')
ENGINES = ('vllm', 'lmdeploy', 'sglang')
META = dict(round=[dict(role='HUMAN', begin='<|im_start|>user\n',
                        end='<|im_end|>\n'),
                   dict(role='BOT', begin='<|im_start|>assistant\n',
                        generate=True)])
TYPES = {
    ('vllm', 'base'): 'VLLM', ('vllm', 'chat'): 'VLLMwithChatTemplate',
    ('lmdeploy', 'base'): 'TurboMindModel',
    ('lmdeploy', 'chat'): 'TurboMindModelwithChatTemplate',
    ('sglang', 'base'): 'SGLang', ('sglang', 'chat'): 'SGLangwithChatTemplate',
    ('openai', 'base'): 'OpenAISDK', ('openai', 'chat'): 'OpenAISDK'}
# The OpenAISDK constructor's parameters (written elsewhere; agreed list).
OPENAI_SDK_PARAMS = {
    'path', 'key', 'openai_api_base', 'mode', 'tokenizer_path',
    'tokenizer_kwargs', 'max_seq_len', 'meta_template', 'stop_words',
    'generation_kwargs', 'batch_size', 'concurrency', 'query_per_second',
    'retry', 'timeout', 'server_type', 'prompt_overflow', 'max_out_len'}
FRAMEWORK_KEYS = {'type', 'abbr', 'run_cfg', 'summarizer_abbr',
                  'pred_postprocessor'}


def chat(**kw):
    base = dict(type='HuggingFacewithChatTemplate',
                abbr='qwen2.5-7b-instruct-hf', path='Qwen/Qwen2.5-7B-Instruct',
                max_out_len=1024, batch_size=8, max_seq_len=4096,
                generation_kwargs=dict(do_sample=False),
                model_kwargs=dict(torch_dtype='auto'),
                stop_words=['<|im_end|>'], run_cfg=dict(num_gpus=1))
    return {**base, **kw}


def base(**kw):
    model = dict(type='HuggingFaceBaseModel', abbr='qwen2.5-7b-hf',
                 path='Qwen/Qwen2.5-7B', max_out_len=256, batch_size=8,
                 max_seq_len=2048, meta_template=META, end_str='\n\n',
                 run_cfg=dict(num_gpus=1))
    return {**model, **kw}


def one(model, backend, **kw):
    [out] = change_accelerator([model], backend, **kw)
    return out


def get(d, dotted):
    for key in dotted.split('.'):
        d = d[key]
    return d


def all_keys(d):
    """Every key at any depth of a converted dict."""
    if not isinstance(d, dict):
        return set()
    return set(d) | {k for v in d.values() for k in all_keys(v)}


# ---- the switch itself ------------------------------------------------------
@pytest.mark.parametrize('accelerator', ['hf', None])
def test_hf_or_none_returns_unchanged_copies(accelerator):
    models = [chat(), base()]
    out = change_accelerator(models, accelerator)
    assert out == models and out[0] is not models[0]
    assert out[0]['model_kwargs'] is not models[0]['model_kwargs']


def test_unknown_accelerator_lists_the_five_names():
    with pytest.raises(UnknownNameError) as err:
        change_accelerator([chat()], 'tensorrt')
    for name in ('hf', 'vllm', 'lmdeploy', 'sglang', 'openai'):
        assert name in str(err.value)


def test_accelerators_are_hf_plus_the_converter_table():
    assert run.ACCELERATORS == ('hf', 'vllm', 'lmdeploy', 'sglang', 'openai')
    assert set(run._CONVERTERS) == set(TYPES)


def test_a_new_backend_is_one_converter_in_the_table(monkeypatch):
    @run._produces('TGI')
    def to_tgi(model, opts):
        return dict(type='TGI', path=model['path'])

    monkeypatch.setitem(run._CONVERTERS, ('tgi', 'chat'), to_tgi)
    converted = one(chat(), 'tgi')
    assert converted == dict(type='TGI', path=chat()['path'])
    assert one(converted, 'tgi') == converted  # idempotent with no other edit
    assert one(converted, 'vllm') == converted


def test_converted_types_are_what_the_converters_emit():
    assert set(run.converted_types()) == set(TYPES.values()) | {'OpenAI'}


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('kind', ['base', 'chat'])
def test_type_is_the_backend_class(backend, kind):
    model = base() if kind == 'base' else chat()
    assert one(model, backend)['type'] == TYPES[(backend, kind)]


@pytest.mark.parametrize('backend', BACKENDS)
def test_the_callers_dicts_are_never_mutated(backend):
    models = [chat(peft_path=None), base(generation_kwargs=dict(
        eos_token_id=[1, 2], do_sample=True, temperature=0.5))]
    before = copy.deepcopy(models)
    out = change_accelerator(models, backend)
    assert models == before
    out[0]['run_cfg']['num_gpus'] = 99  # nothing shared with the input
    assert models == before


@pytest.mark.parametrize('backend', BACKENDS)
def test_converting_twice_equals_converting_once(backend):
    once = change_accelerator([chat(), base()], backend)
    assert change_accelerator(once, backend) == once


def test_a_dict_converted_for_another_backend_passes_through():
    vllm = one(chat(), 'vllm')
    assert one(vllm, 'lmdeploy') == vllm


def test_unknown_type_names_the_type_and_what_converts():
    model = chat(type='MyRemoteModel')
    with pytest.raises(UnknownModelTypeError) as err:
        change_accelerator([model], 'vllm')
    msg = str(err.value)
    assert 'MyRemoteModel' in msg and 'qwen2.5-7b-instruct-hf' in msg
    for name in run.BASE_TYPES + run.CHAT_TYPES:
        assert name in msg


# ---- the four spellings of `type` -------------------------------------------
StubChat = type('HuggingFacewithChatTemplate', (), {})
StubBase = type('HuggingFaceBaseModel', (StubChat, ), {})  # as in OpenCompass
UserChat = type('MyChatModel', (StubChat, ), {})
UserBase = type('MyBaseModel', (StubBase, ), {})


@pytest.mark.parametrize('type_, kind', [
    (StubChat, 'chat'), (StubBase, 'base'),
    (UserChat, 'chat'), (UserBase, 'base'),
    ('HuggingFacewithChatTemplate', 'chat'), ('HuggingFaceBaseModel', 'base'),
    ('HuggingFace', 'base'), ('HuggingFaceCausalLM', 'base'),
    ('HuggingFaceChatGLM3', 'base'),
    ('opencompass.models.HuggingFacewithChatTemplate', 'chat'),
    ('opencompass.models.huggingface.HuggingFaceBaseModel', 'base'),
], ids=lambda v: getattr(v, '__name__', str(v)))
def test_every_spelling_of_type_is_recognized(type_, kind):
    assert run._model_kind(dict(type=type_)) == kind
    assert one(chat(type=type_), 'vllm')['type'] == TYPES[('vllm', kind)]


def test_a_dotted_path_to_a_user_subclass_is_recognized(tmp_path,
                                                        monkeypatch):
    (tmp_path / 'my_models.py').write_text(textwrap.dedent('''
        class HuggingFacewithChatTemplate: pass
        class MyChat(HuggingFacewithChatTemplate): pass
    '''))
    monkeypatch.syspath_prepend(str(tmp_path))
    assert run._is_chat_model(dict(type='my_models.MyChat'))
    assert not run._is_base_model(dict(type='my_models.MyChat'))


def test_mmengine_lazy_objects_are_recognized():
    lazy = pytest.importorskip('mmengine.config.lazy')
    by_from = lazy.LazyObject('opencompass.models', 'HuggingFaceBaseModel')
    by_attr = lazy.LazyObject('opencompass.models').HuggingFacewithChatTemplate
    assert run._model_kind(dict(type=by_from)) == 'base'
    assert run._model_kind(dict(type=by_attr)) == 'chat'


def test_the_real_hf_classes_when_importable():
    hf = pytest.importorskip('opencompass.models.huggingface')
    assert run._is_chat_model(dict(type=hf.HuggingFacewithChatTemplate))
    assert run._is_base_model(dict(type=hf.HuggingFaceBaseModel))
    sub = type('Sub', (hf.HuggingFacewithChatTemplate, ), {})
    assert run._is_chat_model(dict(type=sub))


def test_classifying_imports_neither_engines_nor_torch():
    code = ('import sys; from opencompass.utils.run import change_accelerator;'
            "change_accelerator([dict(type='HuggingFaceBaseModel', path='p'),"
            "dict(type='HuggingFacewithChatTemplate', path='p')], 'vllm');"
            "print(sorted(m for m in ('vllm', 'torch', 'transformers', "
            "'opencompass.models.huggingface') if m in sys.modules))")
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True)
    assert out.stdout.strip() == '[]'


# ---- abbr -------------------------------------------------------------------
@pytest.mark.parametrize('backend', BACKENDS)
def test_abbr_hf_suffix_becomes_the_backend(backend):
    assert one(chat(), backend)['abbr'] == f'qwen2.5-7b-instruct-{backend}'


def test_abbr_without_hf_suffix_gets_the_backend_appended():
    assert one(chat(abbr='qwen-chat'), 'vllm')['abbr'] == 'qwen-chat-vllm'
    assert one(chat(abbr='hf-qwen'), 'sglang')['abbr'] == 'hf-qwen-sglang'


def test_missing_abbr_is_derived_from_the_path():
    model = chat()
    del model['abbr']
    assert one(model, 'lmdeploy')['abbr'] == 'Qwen2.5-7B-Instruct-lmdeploy'
    assert one(chat(abbr=None, path='/models/qwen/'),
               'vllm')['abbr'] == 'qwen-vllm'


# ---- num_gpus -> tensor parallel --------------------------------------------
TP_KEY = {'vllm': 'model_kwargs.tensor_parallel_size',
          'lmdeploy': 'engine_config.tp', 'sglang': 'model_kwargs.tp_size'}


@pytest.mark.parametrize('backend', ENGINES)
def test_num_gpus_becomes_tensor_parallel_and_run_cfg_is_kept(backend):
    out = one(chat(run_cfg=dict(num_gpus=4, num_procs=1)), backend)
    assert get(out, TP_KEY[backend]) == 4
    assert out['run_cfg'] == dict(num_gpus=4, num_procs=1)


@pytest.mark.parametrize('backend', ENGINES)
def test_num_gpus_defaults_to_one(backend):
    model = chat()
    del model['run_cfg']
    assert get(one(model, backend), TP_KEY[backend]) == 1


def test_openai_needs_no_local_gpu():
    assert one(chat(run_cfg=dict(num_gpus=2)), 'openai')['run_cfg'] == dict(
        num_gpus=0)


# ---- max_seq_len -> context length ------------------------------------------
@pytest.mark.parametrize('backend, key', [
    ('vllm', 'model_kwargs.max_model_len'),
    ('lmdeploy', 'engine_config.session_len'),
    ('sglang', 'model_kwargs.context_length'), ('openai', 'max_seq_len')])
def test_max_seq_len_becomes_the_context_length(backend, key):
    out = one(chat(max_seq_len=8192), backend)
    assert get(out, key) == 8192 and out['max_seq_len'] == 8192


@pytest.mark.parametrize('backend', ENGINES)
def test_no_max_seq_len_leaves_the_engine_its_own_context(backend):
    model = chat()
    del model['max_seq_len']
    keys = all_keys(one(model, backend))
    assert not keys & {'max_model_len', 'session_len', 'context_length',
                       'max_seq_len'}


# ---- batch_size, max_out_len ------------------------------------------------
@pytest.mark.parametrize('backend', BACKENDS)
def test_batch_size_and_max_out_len_are_kept(backend):
    out = one(chat(batch_size=16, max_out_len=77), backend)
    assert (out['batch_size'], out['max_out_len']) == (16, 77)


def test_lmdeploy_gets_max_batch_size_and_max_new_tokens():
    out = one(chat(batch_size=16, max_out_len=77), 'lmdeploy')
    assert out['engine_config']['max_batch_size'] == 16
    assert out['gen_config']['max_new_tokens'] == 77


def test_generation_max_new_tokens_is_max_out_len_only_when_it_is_absent():
    model = chat(generation_kwargs=dict(max_new_tokens=64))
    assert one(model, 'vllm')['max_out_len'] == 1024  # HF: max_out_len wins
    del model['max_out_len']
    assert one(model, 'vllm')['max_out_len'] == 64


# ---- generation kwargs ------------------------------------------------------
GREEDY = {'vllm': ('generation_kwargs', {'temperature': 0.0}),
          'sglang': ('generation_kwargs', {'temperature': 0.0}),
          'openai': ('generation_kwargs', {'temperature': 0.0}),
          'lmdeploy': ('gen_config', {'do_sample': False,
                                      'max_new_tokens': 1024})}


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('gen', [None, dict(do_sample=False),
                                 dict(do_sample=False, temperature=0.7,
                                      top_p=0.8, top_k=20)])
def test_decoding_is_greedy_unless_sampling_is_asked(backend, gen):
    key, expected = GREEDY[backend]
    assert one(chat(generation_kwargs=gen), backend)[key] == expected


SAMPLED = {'vllm': ('generation_kwargs', dict(temperature=0.7, top_p=0.8,
                                              top_k=20)),
           'sglang': ('generation_kwargs', dict(temperature=0.7, top_p=0.8,
                                                top_k=20)),
           'openai': ('generation_kwargs', dict(temperature=0.7, top_p=0.8,
                                                top_k=20)),
           'lmdeploy': ('gen_config', dict(do_sample=True, temperature=0.7,
                                           top_p=0.8, top_k=20,
                                           max_new_tokens=1024))}


@pytest.mark.parametrize('backend', BACKENDS)
def test_sampling_is_carried_when_the_config_asks(backend):
    gen = dict(do_sample=True, temperature=0.7, top_p=0.8, top_k=20)
    key, expected = SAMPLED[backend]
    assert one(chat(generation_kwargs=gen), backend)[key] == expected


def test_sampling_without_temperature_uses_hf_default_one():
    out = one(chat(generation_kwargs=dict(do_sample=True)), 'vllm')
    assert out['generation_kwargs'] == dict(temperature=1.0)


def test_openai_carries_every_sampling_setting_for_the_server_to_take():
    """#11: vLLM and SGLang fill an omitted field from the checkpoint's
    generation_config.json; OpenAISDK sends these where the server takes
    them (and warns where it does not)."""
    gen = dict(do_sample=True, temperature=0.5, top_k=5,
               repetition_penalty=1.1, min_new_tokens=2, eos_token_id=7)
    out = one(chat(generation_kwargs=gen), 'openai')
    assert out['generation_kwargs'] == dict(
        temperature=0.5, top_k=5, repetition_penalty=1.1, min_new_tokens=2,
        stop_token_ids=[7])


STOP_IDS = {'vllm': 'generation_kwargs.stop_token_ids',
            'sglang': 'generation_kwargs.stop_token_ids',
            'lmdeploy': 'gen_config.stop_token_ids'}


@pytest.mark.parametrize('backend', ENGINES)
def test_eos_token_id_goes_to_stop_token_ids_never_to_stop_words(backend):
    out = one(chat(generation_kwargs=dict(eos_token_id=[151645, 151643])),
              backend)
    assert get(out, STOP_IDS[backend]) == [151645, 151643]
    assert out['stop_words'] == ['<|im_end|>']


def test_generation_stop_strings_join_the_stop_words():
    model = chat(generation_kwargs=dict(stop_strings=['Q:', '<|im_end|>']))
    assert one(model, 'sglang')['stop_words'] == ['<|im_end|>', 'Q:']


def test_other_carried_generation_kwargs_use_each_engine_name():
    gen = dict(repetition_penalty=1.1, min_new_tokens=2, seed=7)
    assert one(chat(generation_kwargs=gen), 'vllm')['generation_kwargs'] == \
        dict(temperature=0.0, repetition_penalty=1.1, min_tokens=2, seed=7)
    assert one(chat(generation_kwargs=gen), 'sglang')['generation_kwargs'] == \
        dict(temperature=0.0, repetition_penalty=1.1, min_new_tokens=2,
             sampling_seed=7)
    assert one(chat(generation_kwargs=gen), 'lmdeploy')['gen_config'] == dict(
        do_sample=False, max_new_tokens=1024,
        repetition_penalty=1.1, min_new_tokens=2, random_seed=7)


def test_hf_only_generation_kwargs_are_dropped():
    gen = dict(pad_token_id=0, use_cache=True, num_beams=1)
    out = one(chat(generation_kwargs=gen), 'vllm')
    assert out['generation_kwargs'] == dict(temperature=0.0)


@pytest.mark.parametrize('gen', [dict(num_beams=4), dict(typical_p=0.9),
                                 dict(num_return_sequences=2)])
def test_generation_kwargs_no_engine_takes_are_refused(gen):
    with pytest.raises(OpenCompassError, match=next(iter(gen))):
        change_accelerator([chat(generation_kwargs=gen)], 'vllm')


# ---- base vs chat fields ----------------------------------------------------
@pytest.mark.parametrize('backend', ENGINES)
def test_base_models_keep_meta_template_and_end_str(backend):
    out = one(base(), backend)
    assert (out['meta_template'], out['end_str']) == (META, '\n\n')


def test_openai_base_keeps_meta_template_and_stops_at_end_str():
    out = one(base(stop_words=['Q:']), 'openai')
    assert out['meta_template'] == META and out['mode'] == 'base'
    assert out['stop_words'] == ['Q:', '\n\n'] and 'end_str' not in out


@pytest.mark.parametrize('backend', BACKENDS)
def test_chat_models_keep_stop_words_and_use_the_chat_template(backend):
    out = one(chat(meta_template=META), backend)
    assert out['stop_words'] == ['<|im_end|>'] and 'meta_template' not in out


# ---- model_kwargs, tokenizer ------------------------------------------------
HF_ONLY = dict(device_map='auto', torch_dtype='bfloat16',
               low_cpu_mem_usage=True, attn_implementation='sdpa')


@pytest.mark.parametrize('backend', BACKENDS)
def test_hf_only_model_kwargs_never_reach_an_engine(backend):
    keys = all_keys(one(chat(model_kwargs=HF_ONLY), backend))
    assert not keys & set(HF_ONLY)


@pytest.mark.parametrize('backend, key', [
    ('vllm', 'model_kwargs.trust_remote_code'),
    ('lmdeploy', 'trust_remote_code'),
    ('sglang', 'model_kwargs.trust_remote_code')])
def test_trust_remote_code_goes_where_the_engine_takes_it(backend, key):
    out = one(chat(model_kwargs=dict(trust_remote_code=True)), backend)
    assert get(out, key) is True


@pytest.mark.parametrize('backend', ENGINES)
def test_model_kwargs_that_change_the_model_are_refused(backend):
    with pytest.raises(OpenCompassError, match='load_in_4bit'):
        change_accelerator([chat(model_kwargs=dict(load_in_4bit=True))],
                           backend)


def test_vllm_takes_the_tokenizer_settings_as_llm_arguments(caplog):
    with caplog.at_level(logging.WARNING):
        out = one(chat(tokenizer_path='Qwen/tok', tokenizer_kwargs=dict(
            padding_side='left', use_fast=False, trust_remote_code=True)),
            'vllm')
    # vLLM 0.33 has no 'slow' tokenizer mode: use_fast=False is dropped
    assert out['model_kwargs'] == dict(
        tensor_parallel_size=1, max_model_len=4096, tokenizer='Qwen/tok',
        trust_remote_code=True)
    assert 'use_fast=False is not carried' in caplog.text


@pytest.mark.parametrize('backend', ['lmdeploy', 'sglang', 'openai'])
def test_tokenizer_path_and_kwargs_are_carried(backend):
    out = one(chat(tokenizer_path='Qwen/tok',
                   tokenizer_kwargs=dict(padding_side='left')), backend)
    assert out['tokenizer_path'] == 'Qwen/tok'
    assert out['tokenizer_kwargs'] == dict(padding_side='left')


# ---- settings that cannot be carried ----------------------------------------
@pytest.mark.parametrize('backend', ['lmdeploy', 'sglang', 'openai'])
def test_peft_path_is_refused_where_lora_cannot_be_loaded(backend):
    with pytest.raises(OpenCompassError, match='peft_path'):
        change_accelerator([chat(peft_path='/lora')], backend)


def test_vllm_loads_a_peft_adapter_as_lora():
    out = one(chat(peft_path='/lora', peft_kwargs=dict(revision='x')), 'vllm')
    assert out['lora_path'] == '/lora'
    assert out['model_kwargs']['enable_lora'] is True
    assert 'peft_kwargs' not in out


@pytest.mark.parametrize('field, value', [('mode', 'mid'),
                                          ('drop_middle', True),
                                          ('fastchat_template', 'one_shot')])
def test_truncation_and_unknown_template_modes_are_refused(field, value):
    with pytest.raises(OpenCompassError, match=field):
        change_accelerator([chat(**{field: value})], 'vllm')


# ---- fields carried since the engine contracts (Part 3) ----------------------
@pytest.mark.parametrize('backend, key', [
    ('vllm', 'model_kwargs.max_model_len'),
    ('lmdeploy', 'engine_config.session_len'),
    ('sglang', 'model_kwargs.context_length'), ('openai', 'max_seq_len')])
def test_model_kwargs_max_seq_len_is_the_context_length(backend, key):
    model = chat(model_kwargs=dict(max_seq_len=2048, torch_dtype='auto'))
    del model['max_seq_len']
    out = one(model, backend)
    assert get(out, key) == 2048 and out['max_seq_len'] == 2048
    assert 'max_seq_len' not in (out.get('model_kwargs') or {})
    both = one(chat(max_seq_len=4096, model_kwargs=dict(max_seq_len=2048)),
               backend)
    assert get(both, key) == 2048  # the model's own limit wins


@pytest.mark.parametrize('backend', BACKENDS)
@pytest.mark.parametrize('name, begin', [
    ('vicuna', 'USER: '), ('llama-2', '[INST] '),
    ('chatml', '<|im_start|>user\n')])
def test_fastchat_template_becomes_the_equivalent_meta_template(
        backend, name, begin):
    out = one(chat(fastchat_template=name, stop_words=['x']), backend)
    assert out['type'] == TYPES[(backend, 'base')]
    [human, bot] = out['meta_template']['round']
    assert human['begin'] == begin and bot['generate'] is True
    assert out['stop_words'][0] == 'x' and len(out['stop_words']) == 3
    assert 'fastchat_template' not in out


def test_use_fastchat_template_means_vicuna():
    out = one(base(use_fastchat_template=True, meta_template=None), 'vllm')
    assert out['meta_template']['round'][1]['begin'] == 'ASSISTANT:'


def test_fastchat_template_renders_as_fastchat_does():
    from opencompass.utils.fastchat_templates import fastchat_format
    from opencompass.utils.prompt import flatten
    rounds = [dict(role='HUMAN', prompt='q1'), dict(role='BOT', prompt='a1'),
              dict(role='HUMAN', prompt='q2'), dict(role='BOT', prompt='')]
    render = {n: flatten(rounds, fastchat_format(n)['meta_template'])
              for n in ('vicuna', 'llama-2', 'chatml')}
    assert render['vicuna'].endswith(
        "questions. USER: q1 ASSISTANT:a1</s>USER: q2 ASSISTANT:")
    assert render['llama-2'] == '[INST] q1 [/INST]a1 </s><s>[INST] q2 [/INST]'
    assert render['chatml'] == (
        '<|im_start|>user\nq1<|im_end|>\n<|im_start|>assistant\na1'
        '<|im_end|>\n<|im_start|>user\nq2<|im_end|>\n'
        '<|im_start|>assistant\n')


def test_fastchat_template_with_a_meta_template_is_refused():
    with pytest.raises(OpenCompassError, match='keep one'):
        change_accelerator([base(fastchat_template='vicuna')], 'vllm')


def test_unknown_fields_are_dropped_with_a_warning(caplog):
    with caplog.at_level(logging.WARNING, logger='opencompass.utils.run'):
        out = one(chat(min_out_len=1), 'sglang')
    assert 'min_out_len' not in out and 'min_out_len' in caplog.text


# ---- OpenAI -----------------------------------------------------------------
def test_openai_path_is_the_served_name_and_tokenizer_the_hf_path():
    out = one(chat(), 'openai', api_model='qwen')
    assert (out['path'], out['tokenizer_path']) == ('qwen',
                                                    'Qwen/Qwen2.5-7B-Instruct')
    out = one(chat(tokenizer_path='Qwen/tok'), 'openai')
    assert (out['path'], out['tokenizer_path']) == (None, 'Qwen/tok')


def test_openai_base_and_key_from_arguments_then_env_then_default(
        monkeypatch):
    monkeypatch.delenv('OPENAI_API_BASE', raising=False)
    monkeypatch.delenv('OPENAI_API_KEY', raising=False)
    out = one(chat(), 'openai')
    assert (out['openai_api_base'], out['key']) == (run.DEFAULT_API_BASE,
                                                    'EMPTY')
    monkeypatch.setenv('OPENAI_API_BASE', 'http://env:1/v1')
    monkeypatch.setenv('OPENAI_API_KEY', 'envkey')
    out = one(chat(), 'openai')
    assert (out['openai_api_base'], out['key']) == ('http://env:1/v1',
                                                    'ENV')  # read at run time
    assert 'envkey' not in str(out)  # no secret in dumped configs
    out = one(chat(), 'openai', api_base='http://arg:2/v1', api_key='argkey')
    assert (out['openai_api_base'], out['key']) == ('http://arg:2/v1',
                                                    'argkey')


def test_openai_mode_follows_the_kind():
    assert one(chat(), 'openai')['mode'] == 'chat'
    assert one(base(), 'openai')['mode'] == 'base'


@pytest.mark.parametrize('model', [chat, base])
def test_openai_dict_fits_the_openai_sdk_constructor(model):
    out = one({**HF_FULL, **model(tokenizer_kwargs=dict(padding_side='left'))},
              'openai')
    assert set(out) - FRAMEWORK_KEYS <= OPENAI_SDK_PARAMS


@pytest.mark.parametrize('model', [chat, base])
def test_openai_dict_builds_the_real_class_when_importable(model):
    api = pytest.importorskip('opencompass.models.openai_api')
    out = one({**HF_FULL, **model()}, 'openai', api_key='k')
    built = api.OpenAISDK(**{k: v for k, v in out.items()
                             if k not in FRAMEWORK_KEYS})  # no request made
    assert built.mode == out['mode'] and built.max_seq_len == out[
        'max_seq_len']


# ---- the field table: every field of an HF dict, its fate per backend -------
@dataclasses.dataclass(frozen=True)
class Kept:
    """The field arrives at `where` (dotted) with `value`."""

    where: str
    value: object


@dataclasses.dataclass(frozen=True)
class Dropped:
    """No key of these names anywhere in the converted dict."""

    keys: tuple


REFUSED = 'refused'
HF_FULL = dict(
    type='HuggingFaceBaseModel', abbr='qwen-hf', path='Qwen/Qwen2.5-7B',
    model_kwargs=dict(torch_dtype='auto', device_map='auto',
                      trust_remote_code=True, revision='main'),
    tokenizer_path='Qwen/tok',
    tokenizer_kwargs=dict(padding_side='left'),
    generation_kwargs=dict(do_sample=False, eos_token_id=151643),
    max_seq_len=4096, max_out_len=256, batch_size=8, meta_template=META,
    end_str='<|im_end|>', stop_words=['Question:'], pad_token_id=0,
    batch_padding=True, tokenizer_only=True, run_cfg=dict(num_gpus=2),
    summarizer_abbr='qwen', pred_postprocessor=dict(type='first_option'))


def same(where, value):
    return {b: Kept(where, value) for b in BACKENDS}


def dropped(*keys):
    return {b: Dropped(keys) for b in BACKENDS}


# (field, extra HF input or None, {backend: fate}); the base dict HF_FULL.
FIELD_TABLE = [
    ('abbr', None, {b: Kept('abbr', f'qwen-{b}') for b in BACKENDS}),
    ('path', None, {**same('path', 'Qwen/Qwen2.5-7B'),
                    'openai': Kept('path', None)}),
    ('model_kwargs.torch_dtype', None, dropped('torch_dtype', 'dtype')),
    ('model_kwargs.device_map', None, dropped('device_map')),
    ('model_kwargs.trust_remote_code', None, {
        'vllm': Kept('model_kwargs.trust_remote_code', True),
        'lmdeploy': Kept('trust_remote_code', True),
        'sglang': Kept('model_kwargs.trust_remote_code', True),
        'openai': Kept('tokenizer_kwargs.trust_remote_code', True)}),
    ('model_kwargs.revision', None, {
        'vllm': Kept('model_kwargs.revision', 'main'),
        'lmdeploy': Kept('engine_config.revision', 'main'),
        'sglang': Kept('model_kwargs.revision', 'main'),
        'openai': Dropped(('revision', ))}),
    ('model_kwargs.load_in_4bit', dict(model_kwargs=dict(load_in_4bit=True)),
     {'vllm': REFUSED, 'lmdeploy': REFUSED, 'sglang': REFUSED,
      'openai': Dropped(('load_in_4bit', ))}),
    ('tokenizer_path', None, {**same('tokenizer_path', 'Qwen/tok'),
                              'vllm': Kept('model_kwargs.tokenizer',
                                           'Qwen/tok')}),
    ('tokenizer_kwargs.padding_side', None, {
        **same('tokenizer_kwargs.padding_side', 'left'),
        'vllm': Dropped(('padding_side', ))}),
    ('generation_kwargs.do_sample', None, {
        **same('generation_kwargs.temperature', 0.0),
        'lmdeploy': Kept('gen_config.do_sample', False)}),
    ('generation_kwargs.eos_token_id', None, {
        'vllm': Kept('generation_kwargs.stop_token_ids', [151643]),
        'lmdeploy': Kept('gen_config.stop_token_ids', [151643]),
        'sglang': Kept('generation_kwargs.stop_token_ids', [151643]),
        'openai': Kept('generation_kwargs.stop_token_ids', [151643])}),
    ('generation_kwargs.num_beams', dict(generation_kwargs=dict(num_beams=4)),
     {b: REFUSED for b in BACKENDS}),
    ('max_seq_len', None, {
        'vllm': Kept('model_kwargs.max_model_len', 4096),
        'lmdeploy': Kept('engine_config.session_len', 4096),
        'sglang': Kept('model_kwargs.context_length', 4096),
        'openai': Kept('max_seq_len', 4096)}),
    ('max_out_len', None, {**same('max_out_len', 256),
                           'lmdeploy': Kept('gen_config.max_new_tokens', 256)}),
    ('batch_size', None, {**same('batch_size', 8),
                          'lmdeploy': Kept('engine_config.max_batch_size', 8)}),
    ('meta_template', None, same('meta_template', META)),
    ('end_str', None, {**same('end_str', '<|im_end|>'),
                       'openai': Kept('stop_words',
                                      ['Question:', '<|im_end|>'])}),
    ('stop_words', None, {**same('stop_words', ['Question:']),
                          'openai': Kept('stop_words',
                                         ['Question:', '<|im_end|>'])}),
    ('pad_token_id', None, dropped('pad_token_id')),
    ('batch_padding', None, dropped('batch_padding')),
    ('tokenizer_only', None, {**same('tokenizer_only', True),
                              'openai': Dropped(('tokenizer_only', ))}),
    ('peft_path', dict(peft_path='/lora'), {
        'vllm': Kept('lora_path', '/lora'), 'lmdeploy': REFUSED,
        'sglang': REFUSED, 'openai': REFUSED}),
    ('peft_kwargs', dict(peft_path='/lora', peft_kwargs=dict(revision='x')),
     {'vllm': Dropped(('peft_kwargs', )), 'lmdeploy': REFUSED,
      'sglang': REFUSED, 'openai': REFUSED}),
    ('mode', dict(mode='mid'), {b: REFUSED for b in BACKENDS}),
    ('run_cfg', None, {
        'vllm': Kept('model_kwargs.tensor_parallel_size', 2),
        'lmdeploy': Kept('engine_config.tp', 2),
        'sglang': Kept('model_kwargs.tp_size', 2),
        'openai': Kept('run_cfg', dict(num_gpus=0))}),
    ('summarizer_abbr', None, same('summarizer_abbr', 'qwen')),
    ('pred_postprocessor', None,
     same('pred_postprocessor', dict(type='first_option'))),
]
@pytest.mark.parametrize('field, extra, backend, fate', [
    (field, extra, backend, fates[backend])
    for field, extra, fates in FIELD_TABLE for backend in BACKENDS],
    ids=lambda v: v if isinstance(v, str) else '')
def test_field_table(field, extra, backend, fate):
    model = {**HF_FULL, **(extra or {})}
    if fate == REFUSED:
        with pytest.raises(OpenCompassError):
            change_accelerator([model], backend)
        return
    out = one(model, backend)
    if isinstance(fate, Kept):
        assert get(out, fate.where) == fate.value
    else:
        assert not all_keys(out) & set(fate.keys)


def test_field_table_covers_every_field_of_the_hf_dict():
    covered = {field.split('.')[0] for field, _, _ in FIELD_TABLE}
    assert set(HF_FULL) - {'type'} <= covered
    assert all(set(fates) == set(BACKENDS) for _, _, fates in FIELD_TABLE)


def test_openai_server_type_is_carried_only_when_given():
    from opencompass.utils.run import change_accelerator
    model = dict(type='HuggingFacewithChatTemplate', abbr='m-hf', path='/m')
    assert 'server_type' not in change_accelerator([model], 'openai')[0]
    out = change_accelerator([model], 'openai', server_type='vllm')[0]
    assert out['server_type'] == 'vllm'
