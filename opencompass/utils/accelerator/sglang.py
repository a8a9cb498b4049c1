"""HF model dicts -> SGLang (`SGLang`, `SGLangwithChatTemplate`).

Checked against SGLang 0.5.23 (requirements/sglang.txt): every key of
`model_kwargs` is a `ServerArgs` field and every key of `generation_kwargs` a
`SamplingParams` field of that release (its per-request seed is
`sampling_seed`; `random_seed` is the server-wide one).
"""
from opencompass.utils.accelerator.common import (common_fields,
                                                  copy_optional_fields,
                                                  num_gpus, pick, prepare,
                                                  produces,
                                                  split_model_kwargs)

SAMPLING = {'temperature': 'temperature', 'top_p': 'top_p', 'top_k': 'top_k',
            'stop_token_ids': 'stop_token_ids',
            'repetition_penalty': 'repetition_penalty',
            'min_new_tokens': 'min_new_tokens', 'sampling_seed': 'seed'}


def convert(model, chat):
    """Base and chat: SGLang's offline Engine takes both the same way."""
    gen = prepare(model, 'sglang')
    out = common_fields(model, 'sglang', 'SGLangwithChatTemplate'
                        if chat else 'SGLang', gen, meta_template=not chat)
    engine = {'tp_size': num_gpus(model)}
    if out.get('max_seq_len'):
        engine['context_length'] = out['max_seq_len']
    engine.update(split_model_kwargs(model, 'sglang'))
    out['model_kwargs'] = engine
    out['generation_kwargs'] = pick(gen, SAMPLING)
    return copy_optional_fields(model, out,
                                ('tokenizer_path', 'tokenizer_kwargs'))


@produces('SGLang', 'SGLangwithChatTemplate')
def convert_base(model, opts):
    return convert(model, chat=False)


@produces('SGLang', 'SGLangwithChatTemplate')
def convert_chat(model, opts):
    return convert(model, chat=True)
