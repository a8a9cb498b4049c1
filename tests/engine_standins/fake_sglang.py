"""Stand-in for `sglang`: the offline `Engine` (generate, shutdown).

Accepted keywords come from the contract extracted from the pinned release
(contracts/sglang-<version>.json), never from a list written here:
- `Engine(**kwargs)`: kwargs are `ServerArgs` fields, which ServerArgs
  assembles from the namespace classes of sglang/srt/arg_groups/fields/
  (sglang/srt/entrypoints/engine.py, sglang/srt/server_args.py);
- `Engine.generate(...)` parameters (sglang/srt/entrypoints/engine.py);
- sampling_params keys: `SamplingParams` fields, built with
  SamplingParams(**dict) (sglang/srt/sampling/sampling_params.py,
  sglang/srt/managers/tokenizer_manager.py).
Output: one dict per prompt {'text', 'meta_info': {'prompt_tokens',
'completion_tokens', 'finish_reason', 'input_token_logprobs'}}, logprobs as
(logprob, token_id, None) with None for the first token.

Engine behaviour modelled, each read in the pinned source:
- context_length above the checkpoint's limit (config.json) refuses to start
  (sglang/srt/configs/model_config.py, _derive_context_length);
- a request whose input is >= the context length, or whose input plus
  max_new_tokens exceeds it, raises ValueError
  (sglang/srt/managers/tokenizer_manager.py, _validate_one_request).
"""
import types

from engine_standins import (FakeTokenizer, check_kwargs, contract,
                             default_reply)
from engine_standins.fake_vllm import checkpoint_max_len, prompt_logprob

SERVER_ARGS = contract.names('sglang', 'ServerArgs')
GENERATE_KWARGS = contract.names('sglang', 'Engine.generate')
SAMPLING_PARAMS = contract.names('sglang', 'SamplingParams')


class Engine:
    instances = []
    reply = staticmethod(default_reply)

    def __init__(self, **kwargs):
        check_kwargs('Engine', kwargs, SERVER_ARGS)
        if 'model_path' not in kwargs:
            raise TypeError('ServerArgs needs model_path')
        self.init_kwargs = kwargs
        self.calls = []
        self.shut_down = False
        self.tokenizer = FakeTokenizer(kwargs['model_path'])
        limit = checkpoint_max_len(kwargs['model_path'])
        self.context_len = kwargs.get('context_length') or limit or 4096
        if limit and self.context_len > limit:
            raise ValueError(
                f'User-specified context_length ({self.context_len}) is '
                f'greater than the derived context_length ({limit}).')
        Engine.instances.append(self)

    def generate(self, prompt=None, sampling_params=None, **kwargs):
        check_kwargs('Engine.generate', kwargs, GENERATE_KWARGS)
        input_ids = kwargs.get('input_ids')
        if (prompt is None) == (input_ids is None):
            raise ValueError('Either text or input_ids should be provided.')
        self.calls.append({'prompt': prompt, 'sampling_params': sampling_params,
                           **kwargs})
        ids_list = input_ids if prompt is None else [
            self.tokenizer.encode(t) for t in prompt]
        params_list = (sampling_params if isinstance(sampling_params, list)
                       else [dict(sampling_params or {})] * len(ids_list))
        for ids, params in zip(ids_list, params_list):
            check_kwargs('SamplingParams', params, SAMPLING_PARAMS)
            self._validate(len(ids), params.get('max_new_tokens', 128))
        return [self._one(ids, params, kwargs)
                for ids, params in zip(ids_list, params_list)]

    def _validate(self, n_input, max_new):
        if n_input >= self.context_len:
            raise ValueError(f'The input ({n_input} tokens) is longer than the '
                             f"model's context length ({self.context_len} "
                             'tokens).')
        if n_input + max_new > self.context_len:
            raise ValueError("Requested token count exceeds the model's "
                             'maximum context length of '
                             f'{self.context_len} tokens.')

    def _one(self, ids, params, kwargs):
        text = self.tokenizer.decode(ids)
        words = Engine.reply(text).split()[:params.get('max_new_tokens', 128)]
        out = ' '.join(words)
        for stop in params.get('stop') or []:  # SGLang trims stop strings
            out = out.split(stop)[0]
        meta = {'prompt_tokens': len(ids),
                'completion_tokens': len(out.split()),
                'finish_reason': {'type': 'stop'}}
        if kwargs.get('return_logprob'):
            start = kwargs.get('logprob_start_len') or 0
            meta['input_token_logprobs'] = [
                (None if j == 0 else prompt_logprob(j), tok, None)
                for j, tok in enumerate(ids) if j >= start]
        return {'text': out, 'meta_info': meta}

    def shutdown(self):
        self.shut_down = True


def reset():
    Engine.instances = []
    Engine.reply = staticmethod(default_reply)


def modules():
    sglang = types.ModuleType('sglang')
    sglang.Engine = Engine
    return {'sglang': sglang}
