"""HF model dicts -> vLLM (`VLLM`, `VLLMwithChatTemplate`).

Checked against vLLM 0.33 (requirements/vllm.txt): every keyword emitted here
is an `LLM.__init__` parameter, an `EngineArgs` field or a `SamplingParams`
field of that release (tests/models/test_engine_contracts.py).
"""
from opencompass.utils.accelerator.common import (HF_ONLY_TOKENIZER_KWARGS,
                                                  common_fields, logger,
                                                  num_gpus, pick, prepare,
                                                  produces, refuse,
                                                  split_model_kwargs)

SAMPLING = {'temperature': 'temperature', 'top_p': 'top_p', 'top_k': 'top_k',
            'stop_token_ids': 'stop_token_ids',
            'repetition_penalty': 'repetition_penalty',
            'min_tokens': 'min_new_tokens', 'seed': 'seed'}


def tokenizer_kwargs(model):
    """HF tokenizer settings as vLLM `LLM(...)` arguments.

    `use_fast=False` has no vLLM equivalent: 0.33 has no 'slow' tokenizer
    mode (its modes are the registry's, vllm/tokenizers/registry.py) and
    loads the HF tokenizer with AutoTokenizer, which picks the fast one when
    the checkpoint has it. It is dropped with a warning.
    """
    out = {}
    tok_path = model.get('tokenizer_path')
    if tok_path and tok_path != model.get('path'):
        out['tokenizer'] = tok_path
    kwargs = dict(model.get('tokenizer_kwargs') or {})
    if kwargs.pop('use_fast', True) is False:
        logger.warning('model %s: tokenizer_kwargs.use_fast=False is not '
                       'carried: vLLM has no slow tokenizer mode and loads '
                       'the checkpoint\'s HF tokenizer', model.get('abbr'))
    if 'revision' in kwargs:
        out['tokenizer_revision'] = kwargs.pop('revision')
    if 'trust_remote_code' in kwargs:
        out['trust_remote_code'] = kwargs.pop('trust_remote_code')
    unknown = sorted(set(kwargs) - HF_ONLY_TOKENIZER_KWARGS)
    if unknown:
        refuse(model, 'vllm', f'tokenizer_kwargs {unknown}',
               'vLLM loads its tokenizer itself; remove them')
    return out


def convert(model, chat):
    gen = prepare(model, 'vllm', lora=True)
    out = common_fields(model, 'vllm',
                        'VLLMwithChatTemplate' if chat else 'VLLM', gen,
                        meta_template=not chat)
    engine = {'tensor_parallel_size': num_gpus(model)}
    if out.get('max_seq_len'):
        engine['max_model_len'] = out['max_seq_len']
    engine.update(tokenizer_kwargs(model))
    engine.update(split_model_kwargs(model, 'vllm'))
    if model.get('peft_path'):
        engine['enable_lora'] = True  # max_lora_rank: set from the adapter
        out['lora_path'] = model['peft_path']
    out['model_kwargs'] = engine
    out['generation_kwargs'] = pick(gen, SAMPLING)
    return out


@produces('VLLM')
def convert_base(model, opts):
    return convert(model, chat=False)


@produces('VLLMwithChatTemplate')
def convert_chat(model, opts):
    return convert(model, chat=True)
