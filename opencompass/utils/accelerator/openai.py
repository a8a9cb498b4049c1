"""HF model dicts -> an OpenAI-compatible server (`OpenAISDK`)."""
import os

from opencompass.utils.accelerator.common import (common_fields,
                                                  copy_optional_fields, pick,
                                                  prepare, produces, refuse)

DEFAULT_API_BASE = 'http://127.0.0.1:8000/v1'


def generation_kwargs(gen):
    """Every sampling setting of the HF run. OpenAISDK sends temperature,
    top_p and seed as OpenAI fields and the rest as extra body fields to the
    servers that take them (vLLM, SGLang: top_k, repetition_penalty,
    stop_token_ids, min_tokens), so `-a openai` decodes like `-a hf`; a
    server that takes none of them gets a warning at run time."""
    return pick(gen, {'temperature': 'temperature', 'top_p': 'top_p',
                      'seed': 'seed', 'top_k': 'top_k',
                      'repetition_penalty': 'repetition_penalty',
                      'stop_token_ids': 'stop_token_ids',
                      'min_new_tokens': 'min_new_tokens'})


def convert(model, opts, chat):
    """Base and chat: the server holds the weights; we send prompts."""
    if model.get('peft_path'):
        refuse(model, 'openai', f"peft_path={model['peft_path']!r}",
               'serve the adapter (e.g. vllm serve BASE --enable-lora '
               '--lora-modules NAME=PATH) and pass --api-model NAME')
    gen = prepare(model, 'openai', lora=True)
    out = common_fields(model, 'openai', 'OpenAISDK', gen,
                        meta_template=not chat)
    out.pop('tokenizer_only', None)  # no weights to skip: nothing to load
    end_str = out.pop('end_str', None)  # OpenAISDK cuts at stop words only
    if end_str:
        out['stop_words'] = list(dict.fromkeys(out.get('stop_words', []) +
                                               [end_str]))
    out['path'] = opts.api_model
    out['tokenizer_path'] = model.get('tokenizer_path') or model.get('path')
    copy_optional_fields(model, out, ('tokenizer_kwargs', ))
    if (model.get('model_kwargs') or {}).get('trust_remote_code'):
        # the prompt tokenizer is loaded here, from the HF path
        out.setdefault('tokenizer_kwargs', {})['trust_remote_code'] = True
    out['openai_api_base'] = (opts.api_base or os.environ.get('OPENAI_API_BASE')
                              or DEFAULT_API_BASE)
    # 'ENV': OpenAISDK reads $OPENAI_API_KEY itself, so no secret is written
    # into the dict (dry-run output, dumped configs)
    out['key'] = opts.api_key or ('ENV' if os.environ.get('OPENAI_API_KEY')
                                  else 'EMPTY')
    out['mode'] = 'chat' if chat else 'base'
    if opts.server_type:
        out['server_type'] = opts.server_type
    out['generation_kwargs'] = generation_kwargs(gen)
    out['run_cfg'] = dict(out.get('run_cfg') or {}, num_gpus=0)
    return out


@produces('OpenAISDK')
def convert_base(model, opts):
    return convert(model, opts, chat=False)


@produces('OpenAISDK')
def convert_chat(model, opts):
    return convert(model, opts, chat=True)
