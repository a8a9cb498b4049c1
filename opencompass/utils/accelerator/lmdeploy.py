"""HF model dicts -> LMDeploy (`TurboMindModel`,
`TurboMindModelwithChatTemplate`).

Checked against LMDeploy 0.16 (requirements/lmdeploy.txt): every key of
`engine_config` is a `TurbomindEngineConfig` field and every key of
`gen_config` a `GenerationConfig` field of that release (the engine config
ignores unknown keys silently, so this check is the only one there is). The
model class turns greedy decoding with a repetition penalty into top-1
sampling, as LMDeploy drops the penalty when not sampling.
"""
from opencompass.utils.accelerator.common import (common_fields,
                                                  copy_optional_fields,
                                                  num_gpus, pick, prepare,
                                                  produces,
                                                  split_model_kwargs)

GEN = {'temperature': 'temperature', 'top_p': 'top_p', 'top_k': 'top_k',
       'stop_token_ids': 'stop_token_ids',
       'repetition_penalty': 'repetition_penalty',
       'min_new_tokens': 'min_new_tokens', 'random_seed': 'seed'}


def gen_config(gen, max_out_len):
    """Every setting the HF config had, under LMDeploy's names; greedy
    decoding drops temperature/top_p/top_k as transformers ignores them."""
    cfg = {'do_sample': gen['do_sample']}
    if max_out_len:
        cfg['max_new_tokens'] = max_out_len
    picked = pick(gen, GEN)
    if not gen['do_sample']:
        for key in ('temperature', 'top_p', 'top_k'):
            picked.pop(key, None)
    cfg.update(picked)
    return cfg


def convert(model, chat):
    gen = prepare(model, 'lmdeploy')
    out = common_fields(model, 'lmdeploy', 'TurboMindModelwithChatTemplate'
                        if chat else 'TurboMindModel', gen,
                        meta_template=not chat)
    carried = split_model_kwargs(model, 'lmdeploy')
    engine = {'tp': num_gpus(model)}
    if out.get('max_seq_len'):
        engine['session_len'] = out['max_seq_len']
    if model.get('batch_size'):
        engine['max_batch_size'] = model['batch_size']
    if 'revision' in carried:
        engine['revision'] = carried['revision']
    out['engine_config'] = engine
    out['gen_config'] = gen_config(gen, out.get('max_out_len'))
    out['backend'] = 'turbomind'
    if carried.get('trust_remote_code'):
        out['trust_remote_code'] = True
    return copy_optional_fields(model, out,
                                ('tokenizer_path', 'tokenizer_kwargs'))


@produces('TurboMindModel')
def convert_base(model, opts):
    return convert(model, chat=False)


@produces('TurboMindModelwithChatTemplate')
def convert_chat(model, opts):
    return convert(model, chat=True)
