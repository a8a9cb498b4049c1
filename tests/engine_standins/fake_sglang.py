"""Stand-in for `sglang`: the offline `Engine` (generate, shutdown).

Accepted keywords, from the real signatures:
- `Engine(**kwargs)`: kwargs are `ServerArgs` fields
  (python/sglang/srt/entrypoints/engine.py, python/sglang/srt/server_args.py);
  https://docs.sglang.ai/backend/server_arguments.html
- `Engine.generate(prompt=None, sampling_params=None, input_ids=None,
  image_data=None, return_logprob=False, logprob_start_len=None,
  top_logprobs_num=None, token_ids_logprob=None, lora_path=None,
  custom_logit_processor=None, return_hidden_states=False, stream=False, ...)`
  returning one dict per prompt {'text', 'meta_info': {'prompt_tokens',
  'completion_tokens', 'finish_reason'}}: python/sglang/srt/entrypoints/engine.py
- sampling_params keys: `SamplingParams` fields
  (python/sglang/srt/sampling/sampling_params.py);
  https://docs.sglang.ai/backend/sampling_params.html
"""
import types

from engine_standins import FakeTokenizer, check_kwargs, default_reply

SERVER_ARGS = {
    'model_path', 'tokenizer_path', 'tokenizer_mode', 'skip_tokenizer_init',
    'load_format', 'trust_remote_code', 'dtype', 'kv_cache_dtype',
    'quantization', 'context_length', 'device', 'served_model_name',
    'chat_template', 'revision', 'mem_fraction_static', 'max_running_requests',
    'max_total_tokens', 'chunked_prefill_size', 'max_prefill_tokens',
    'schedule_policy', 'tp_size', 'dp_size', 'pp_size', 'random_seed',
    'log_level', 'lora_paths', 'max_loras_per_batch', 'attention_backend',
    'sampling_backend', 'disable_cuda_graph', 'disable_radix_cache',
    'enable_torch_compile', 'cuda_graph_max_bs', 'stream_interval'}
GENERATE_KWARGS = {
    'prompt', 'sampling_params', 'input_ids', 'image_data', 'return_logprob',
    'logprob_start_len', 'top_logprobs_num', 'token_ids_logprob', 'lora_path',
    'custom_logit_processor', 'return_hidden_states', 'stream', 'rid'}
SAMPLING_PARAMS = {
    'max_new_tokens', 'stop', 'stop_token_ids', 'stop_regex', 'temperature',
    'top_p', 'top_k', 'min_p', 'frequency_penalty', 'presence_penalty',
    'repetition_penalty', 'min_new_tokens', 'n', 'json_schema', 'regex',
    'ebnf', 'structural_tag', 'ignore_eos', 'skip_special_tokens',
    'spaces_between_special_tokens', 'no_stop_trim', 'custom_params',
    'stream_interval', 'logit_bias', 'sampling_seed'}


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
        Engine.instances.append(self)

    def generate(self, prompt=None, sampling_params=None, **kwargs):
        check_kwargs('Engine.generate', kwargs, GENERATE_KWARGS)
        params = dict(sampling_params or {})
        check_kwargs('SamplingParams', params, SAMPLING_PARAMS)
        input_ids = kwargs.get('input_ids')
        if (prompt is None) == (input_ids is None):
            raise ValueError('Either text or input_ids should be provided.')
        self.calls.append({'prompt': prompt, 'sampling_params': params,
                           **kwargs})
        texts = prompt if prompt is not None else [
            self.tokenizer.decode(ids) for ids in input_ids]
        return [self._one(t, params) for t in texts]

    def _one(self, text, params):
        words = Engine.reply(text).split()[:params.get('max_new_tokens', 128)]
        out = ' '.join(words)
        for stop in params.get('stop') or []:  # SGLang trims stop strings
            out = out.split(stop)[0]
        return {'text': out, 'meta_info': {
            'prompt_tokens': len(text.split()),
            'completion_tokens': len(out.split()),
            'finish_reason': {'type': 'stop'}}}

    def shutdown(self):
        self.shut_down = True


def reset():
    Engine.instances = []
    Engine.reply = staticmethod(default_reply)


def modules():
    sglang = types.ModuleType('sglang')
    sglang.Engine = Engine
    return {'sglang': sglang}
