"""Stand-in for `vllm`: LLM, SamplingParams, LoRARequest and request outputs.

Accepted keywords, from the real signatures:
- `LLM.__init__(model, *, tokenizer, tokenizer_mode, skip_tokenizer_init,
  trust_remote_code, tensor_parallel_size, dtype, quantization, revision,
  tokenizer_revision, seed, gpu_memory_utilization, swap_space, cpu_offload_gb,
  enforce_eager, ..., **kwargs)` where **kwargs are `EngineArgs` fields:
  vllm/entrypoints/llm.py (class LLM) and vllm/engine/arg_utils.py (EngineArgs);
  https://docs.vllm.ai/en/latest/api/vllm/entrypoints/llm.html
- `SamplingParams` fields: vllm/sampling_params.py (class SamplingParams);
  https://docs.vllm.ai/en/latest/api/vllm/sampling_params.html
- `LLM.generate(prompts, sampling_params=None, *, use_tqdm=True,
  lora_request=None, priority=None, tokenization_kwargs=None)`: vllm/entrypoints/llm.py
- prompts: str, `TextPrompt` {'prompt'} or `TokensPrompt` {'prompt_token_ids'}
  (vllm/inputs/data.py)
- `LoRARequest(lora_name, lora_int_id, lora_path='')`: vllm/lora/request.py
- outputs: `RequestOutput(prompt, prompt_token_ids, prompt_logprobs, outputs)`
  with `CompletionOutput(index, text, token_ids, ...)` and `Logprob(logprob)`:
  vllm/outputs.py, vllm/logprobs.py. The first prompt token's logprob is None.
"""
import dataclasses
import types

from engine_standins import FakeTokenizer, check_kwargs, default_reply

LLM_KWARGS = {
    'model', 'task', 'tokenizer', 'tokenizer_mode', 'skip_tokenizer_init',
    'trust_remote_code', 'allowed_local_media_path', 'tensor_parallel_size',
    'dtype', 'quantization', 'revision', 'tokenizer_revision', 'seed',
    'gpu_memory_utilization', 'swap_space', 'cpu_offload_gb', 'enforce_eager',
    'max_seq_len_to_capture', 'disable_custom_all_reduce',
    'disable_async_output_proc', 'hf_token', 'hf_overrides',
    'mm_processor_kwargs', 'override_pooler_config', 'compilation_config',
    # EngineArgs fields, passed through **kwargs
    'max_model_len', 'pipeline_parallel_size', 'data_parallel_size',
    'enable_prefix_caching', 'max_num_seqs', 'max_num_batched_tokens',
    'max_logprobs', 'disable_log_stats', 'download_dir', 'load_format',
    'kv_cache_dtype', 'enable_lora', 'max_loras', 'max_lora_rank',
    'max_cpu_loras', 'enable_chunked_prefill', 'distributed_executor_backend',
    'block_size', 'generation_config', 'served_model_name', 'code_revision',
    'rope_scaling', 'rope_theta'}
SAMPLING_KWARGS = {
    'n', 'presence_penalty', 'frequency_penalty', 'repetition_penalty',
    'temperature', 'top_p', 'top_k', 'min_p', 'seed', 'stop',
    'stop_token_ids', 'ignore_eos', 'max_tokens', 'min_tokens', 'logprobs',
    'prompt_logprobs', 'detokenize', 'skip_special_tokens',
    'spaces_between_special_tokens', 'include_stop_str_in_output',
    'output_kind', 'logit_bias', 'allowed_token_ids', 'extra_args',
    'bad_words', 'structured_outputs'}
GENERATE_KWARGS = {'sampling_params', 'use_tqdm', 'lora_request', 'priority',
                   'tokenization_kwargs'}
PROMPT_KEYS = {'prompt', 'prompt_token_ids', 'multi_modal_data',
               'mm_processor_kwargs', 'cache_salt'}


class SamplingParams:
    """Keeps its keywords as attributes; real defaults where the project
    relies on them (temperature 1.0 is why greedy must be explicit)."""

    def __init__(self, **kwargs):
        check_kwargs('SamplingParams', kwargs, SAMPLING_KWARGS)
        self.kwargs = kwargs
        defaults = {'temperature': 1.0, 'max_tokens': 16, 'stop': None,
                    'prompt_logprobs': None}
        for key, value in {**defaults, **kwargs}.items():
            setattr(self, key, value)


@dataclasses.dataclass
class LoRARequest:
    lora_name: str
    lora_int_id: int
    lora_path: str = ''


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
        self.tokenizer = FakeTokenizer(kwargs.get('tokenizer') or model)
        LLM.instances.append(self)

    def get_tokenizer(self):
        return self.tokenizer

    def generate(self, prompts, sampling_params=None, **kwargs):
        check_kwargs('LLM.generate', kwargs, GENERATE_KWARGS)
        self.calls.append({'prompts': prompts, 'params': sampling_params,
                           **kwargs})
        return [self._one(p, sampling_params or SamplingParams())
                for p in prompts]

    def _one(self, prompt, params):
        if isinstance(prompt, dict):
            check_kwargs('TokensPrompt', prompt, PROMPT_KEYS)
            ids = prompt.get('prompt_token_ids') or self.tokenizer.encode(
                prompt['prompt'])
        else:
            ids = self.tokenizer.encode(prompt)
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
