"""Stand-in for `vllm`: LLM, SamplingParams, LoRARequest and request outputs.

Accepted keywords come from the contract extracted from the pinned release
(contracts/vllm-<version>.json), never from a list written here:
- `LLM(model, **kw)`: `LLM.__init__` parameters plus `EngineArgs` fields
  (vllm/entrypoints/llm.py passes **kwargs to EngineArgs,
  vllm/engine/arg_utils.py);
- `SamplingParams` fields (vllm/sampling_params.py);
- `LLM.generate(prompts, sampling_params, ...)` (vllm/entrypoints/llm.py);
- `LoRARequest` fields (vllm/lora/request.py).
Prompts are str, `TextPrompt` {'prompt'} or `TokensPrompt`
{'prompt_token_ids'}; outputs are `RequestOutput(prompt, prompt_token_ids,
prompt_logprobs, outputs)` with `CompletionOutput(index, text, token_ids)`;
the first prompt token's logprob is None (vllm/outputs.py).

Engine behaviour modelled, each read in the pinned source:
- tokenizer_mode must be 'auto' or a key of the tokenizer registry, else
  "No tokenizer registered" (vllm/tokenizers/registry.py); 'auto' on a
  repository in Mistral's format (tekken.json / tokenizer.model.v*) selects the
  Mistral tokenizer (resolve_tokenizer_args), modelled as a tokenizer whose
  encode spells special tokens out as text;
- max_model_len above the checkpoint's own limit (config.json) refuses to
  start (vllm/config/model.py, _get_and_verify_max_len);
- a prompt of >= max_model_len tokens fails the whole generate call
  (vllm/v1/engine/input_processor.py, _validate_prompt_len);
- max_lora_rank must be one of MaxLoRARanks, default 16; an adapter whose
  rank r is larger fails (vllm/config/lora.py, vllm/lora/peft_helper.py);
- prompt_logprobs set => skip_reading_prefix_cache defaults to True, so
  prompt logprobs are not cut short by a prefix-cache hit
  (vllm/sampling_params.py, __post_init__).
"""
import dataclasses
import json
import pathlib
import types

from engine_standins import (FakeTokenizer, check_kwargs, contract,
                             default_reply)

LLM_KWARGS = contract.names('vllm', 'LLM.__init__', 'EngineArgs')
SAMPLING_KWARGS = contract.names('vllm', 'SamplingParams')
GENERATE_KWARGS = contract.names('vllm', 'LLM.generate')
LORA_FIELDS = contract.names('vllm', 'LoRARequest')
TOKENIZER_MODES = contract.values('vllm', 'tokenizer_mode')
LORA_RANKS = contract.values('vllm', 'max_lora_rank')
DEFAULT_LORA_RANK = contract.values('vllm', 'max_lora_rank_default')
PROMPT_KEYS = {'prompt', 'prompt_token_ids', 'multi_modal_data',
               'mm_processor_kwargs', 'cache_salt'}


def read_json(directory, name):
    """`name` in a local checkpoint/adapter directory, or None."""
    path = pathlib.Path(str(directory)) / name
    return json.loads(path.read_text()) if path.is_file() else None


def checkpoint_max_len(model):
    """The smallest length key of config.json, as vLLM derives it."""
    config = read_json(model, 'config.json') or {}
    keys = ('max_position_embeddings', 'n_positions', 'max_seq_len',
            'seq_length', 'model_max_length', 'max_sequence_length')
    found = [config[k] for k in keys if isinstance(config.get(k), int)]
    return min(found) if found else None


def is_mistral_repo(model):
    directory = pathlib.Path(str(model))
    return directory.is_dir() and (
        (directory / 'tekken.json').is_file()
        or any(directory.glob('tokenizer.model.v*')))


class MistralTokenizer(FakeTokenizer):
    """vLLM's Mistral tokenizer, as far as prompts go: `encode` treats special
    tokens in the text as plain text, so a rendered chat is garbled."""

    mode = 'mistral'

    def encode(self, text, add_special_tokens=True):
        text = text.replace(self.bos_token, '< s >')
        return super().encode(text, add_special_tokens)


class SamplingParams:
    """Keeps its keywords as attributes; real defaults where the project
    relies on them (temperature 1.0 is why greedy must be explicit)."""

    def __init__(self, **kwargs):
        check_kwargs('SamplingParams', kwargs, SAMPLING_KWARGS)
        self.kwargs = kwargs
        defaults = {'temperature': 1.0, 'max_tokens': 16, 'stop': None,
                    'prompt_logprobs': None, 'skip_reading_prefix_cache': None}
        for key, value in {**defaults, **kwargs}.items():
            setattr(self, key, value)
        if self.skip_reading_prefix_cache is None:
            self.skip_reading_prefix_cache = self.prompt_logprobs is not None


@dataclasses.dataclass
class LoRARequest:
    lora_name: str
    lora_int_id: int
    lora_path: str = ''

    def __init__(self, *args, **kwargs):
        check_kwargs('LoRARequest', kwargs, LORA_FIELDS)
        names = ('lora_name', 'lora_int_id', 'lora_path')
        values = {**dict(zip(names, args)), **kwargs}
        self.lora_name = values['lora_name']
        self.lora_int_id = values['lora_int_id']
        self.lora_path = values.get('lora_path', '')


@dataclasses.dataclass
class Logprob:
    logprob: float


@dataclasses.dataclass
class CompletionOutput:
    index: int
    text: str
    token_ids: list


@dataclasses.dataclass
class RequestOutput:
    prompt: str
    prompt_token_ids: list
    prompt_logprobs: list
    outputs: list


def prompt_logprob(position):
    """The stand-in's logprob of the prompt token at `position` (>= 1)."""
    return -0.1 * position


class LLM:
    instances = []
    reply = staticmethod(default_reply)

    def __init__(self, model=None, **kwargs):
        check_kwargs('LLM', kwargs, LLM_KWARGS)
        self.init_kwargs = {'model': model, **kwargs}
        self.calls = []
        mode = kwargs.get('tokenizer_mode', 'auto')
        if mode not in TOKENIZER_MODES:
            raise ValueError(f'No tokenizer registered for tokenizer_mode='
                             f'{mode!r}.')
        limit = checkpoint_max_len(model)
        self.max_model_len = kwargs.get('max_model_len') or limit or 4096
        if limit and self.max_model_len > limit:
            raise ValueError(
                f'User-specified max_model_len ({self.max_model_len}) is '
                f'greater than the derived max_model_len ({limit})')
        self.max_lora_rank = kwargs.get('max_lora_rank', DEFAULT_LORA_RANK)
        if kwargs.get('enable_lora') and self.max_lora_rank not in LORA_RANKS:
            raise ValueError(f'max_lora_rank must be one of {LORA_RANKS}')
        if mode == 'auto' and is_mistral_repo(kwargs.get('tokenizer')
                                              or model):
            mode = 'mistral'
        self.tokenizer_mode = 'hf' if mode == 'auto' else mode
        self.tokenizer = (MistralTokenizer if mode == 'mistral' else
                          FakeTokenizer)(kwargs.get('tokenizer') or model)
        LLM.instances.append(self)

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, prompts, sampling_params=None, **kwargs):
        check_kwargs('LLM.generate', kwargs, GENERATE_KWARGS)
        self.calls.append({'prompts': prompts, 'params': sampling_params,
                           **kwargs})
        self._check_lora(kwargs.get('lora_request'))
        if not isinstance(sampling_params, (list, tuple)):
            sampling_params = [sampling_params or SamplingParams()] * len(
                prompts)
        requests = [(self._ids(p), params)
                    for p, params in zip(prompts, sampling_params)]
        for ids, _ in requests:  # any bad prompt fails the whole call
            self._check_prompt_len(len(ids))
        return [self._one(ids, params) for ids, params in requests]

    def _check_prompt_len(self, n):
        limit = self.max_model_len
        if n > limit:
            raise ValueError(f'The decoder prompt (length {n}) is longer than '
                             f'the maximum model length of {limit}.')
        if n == limit:
            raise ValueError(f'The decoder prompt (length {n}) plus the number '
                             'of requested output tokens (at least 1) is '
                             f'longer than the maximum model length of {limit}.')

    def _check_lora(self, request):
        if request is None:
            return
        if not self.init_kwargs.get('enable_lora'):
            raise ValueError('LoRA is not enabled')
        rank = (read_json(request.lora_path, 'adapter_config.json')
                or {}).get('r', 8)
        if rank > self.max_lora_rank:
            raise ValueError(f'LoRA rank {rank} is greater than max_lora_rank '
                             f'{self.max_lora_rank}.')

    def _ids(self, prompt):
        if isinstance(prompt, dict):
            check_kwargs('TokensPrompt', prompt, PROMPT_KEYS)
            return prompt.get('prompt_token_ids') or self.tokenizer.encode(
                prompt['prompt'])
        return self.tokenizer.encode(prompt)

    def _one(self, ids, params):
        text = self.tokenizer.decode(ids)
        words = LLM.reply(text).split()[:params.max_tokens]
        out = ' '.join(words)
        for stop in params.stop or []:  # vLLM cuts at a stop string
            out = out.split(stop)[0]
        logprobs = None
        if params.prompt_logprobs is not None:
            logprobs = [None] + [{tok: Logprob(prompt_logprob(j))}
                                 for j, tok in enumerate(ids) if j > 0]
        return RequestOutput(text, ids, logprobs, [CompletionOutput(
            0, out, list(range(len(out.split()))))])


def reset():
    LLM.instances = []
    LLM.reply = staticmethod(default_reply)


def modules():
    """sys.modules entries: the package and the submodules the project uses."""
    vllm = types.ModuleType('vllm')
    vllm.LLM, vllm.SamplingParams = LLM, SamplingParams
    lora = types.ModuleType('vllm.lora')
    request = types.ModuleType('vllm.lora.request')
    request.LoRARequest = LoRARequest
    vllm.lora, lora.request = lora, request
    return {'vllm': vllm, 'vllm.lora': lora, 'vllm.lora.request': request}
