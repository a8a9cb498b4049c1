"""Stand-in for `lmdeploy`: pipeline, engine configs, GenerationConfig, Response.

Accepted keywords, from the real signatures:
- `pipeline(model_path, backend_config=None, chat_template_config=None,
  log_level='WARNING', max_log_len=None, trust_remote_code=False,
  speculative_config=None, allowed_media_domains=None)`: lmdeploy/api.py and
  lmdeploy/pipeline.py (Pipeline.__init__); https://lmdeploy.readthedocs.io/en/latest/api/pipeline.html
- `Pipeline.__call__(prompts, gen_config=None, **kw)` -> `infer(prompts,
  gen_config=None, do_preprocess=True, adapter_name=None, use_tqdm=False)`,
  returning `Response`s: lmdeploy/pipeline.py
- `TurbomindEngineConfig`, `PytorchEngineConfig`, `GenerationConfig`,
  `Response` fields (and GenerationConfig's range asserts): lmdeploy/messages.py
LMDeploy matches stop words per token, so a multi-token stop word does not stop
it: this stand-in does not cut at stop words (the project must).
"""
import dataclasses
import types

from engine_standins import FakeTokenizer, check_kwargs, default_reply

PIPELINE_KWARGS = {'backend_config', 'chat_template_config', 'log_level',
                   'max_log_len', 'trust_remote_code', 'speculative_config',
                   'allowed_media_domains'}
INFER_KWARGS = {'do_preprocess', 'adapter_name', 'use_tqdm'}
TURBOMIND_FIELDS = {
    'dtype', 'model_format', 'tp', 'session_len', 'max_batch_size',
    'cache_max_entry_count', 'cache_chunk_size', 'cache_block_seq_len',
    'enable_prefix_caching', 'quant_policy', 'rope_scaling_factor',
    'use_logn_attn', 'download_dir', 'revision', 'max_prefill_token_num',
    'num_tokens_per_iter', 'max_prefill_iters', 'communicator'}
PYTORCH_FIELDS = {
    'dtype', 'tp', 'dp', 'ep', 'dp_rank', 'session_len', 'max_batch_size',
    'cache_max_entry_count', 'prefill_interval', 'block_size',
    'num_cpu_blocks', 'num_gpu_blocks', 'adapters', 'max_prefill_token_num',
    'thread_safe', 'enable_prefix_caching', 'device_type', 'eager_mode',
    'custom_module_map', 'download_dir', 'revision', 'quant_policy',
    'distributed_executor_backend', 'should_execute_dummy_batch'}
GENERATION_FIELDS = {
    'n', 'max_new_tokens', 'do_sample', 'top_p', 'top_k', 'min_p',
    'temperature', 'repetition_penalty', 'ignore_eos', 'random_seed',
    'stop_words', 'bad_words', 'stop_token_ids', 'bad_token_ids',
    'min_new_tokens', 'skip_special_tokens', 'spaces_between_special_tokens',
    'logprobs', 'response_format', 'logits_processors', 'output_logits',
    'output_last_hidden_state'}


class _Config:
    FIELDS = ()

    def __init__(self, **kwargs):
        check_kwargs(type(self).__name__, kwargs, self.FIELDS)
        self.kwargs = kwargs


class TurbomindEngineConfig(_Config):
    FIELDS = TURBOMIND_FIELDS


class PytorchEngineConfig(_Config):
    FIELDS = PYTORCH_FIELDS


class GenerationConfig(_Config):
    FIELDS = GENERATION_FIELDS

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        defaults = {'max_new_tokens': 512, 'top_k': 50, 'temperature': 0.8,
                    'stop_words': None}
        for key, value in {**defaults, **kwargs}.items():
            setattr(self, key, value)
        assert 0 <= self.temperature <= 2  # as the real __post_init__
        assert self.top_k >= 0, 'top_k can not be a negative integer'


@dataclasses.dataclass
class Response:
    text: str
    generate_token_len: int
    input_token_len: int
    finish_reason: str = None
    index: int = 0


class Pipeline:
    def __init__(self, model_path, **kwargs):
        check_kwargs('pipeline', kwargs, PIPELINE_KWARGS)
        self.model_path = model_path
        self.init_kwargs = kwargs
        self.calls = []
        self.closed = False
        self.tokenizer = FakeTokenizer(model_path)

    def __call__(self, prompts, gen_config=None, **kwargs):
        check_kwargs('Pipeline.infer', kwargs, INFER_KWARGS)
        self.calls.append({'prompts': prompts, 'gen_config': gen_config,
                           **kwargs})
        gen_config = gen_config or GenerationConfig()
        return [self._one(p, i, gen_config) for i, p in enumerate(prompts)]

    def _one(self, prompt, index, gen_config):
        words = pipeline.reply(prompt).split()[:gen_config.max_new_tokens]
        return Response(' '.join(words), len(words),
                        len(self.tokenizer.encode(prompt)), 'stop', index)

    def close(self):
        self.closed = True


def pipeline(model_path, **kwargs):
    pipe = Pipeline(model_path, **kwargs)
    pipeline.instances.append(pipe)
    return pipe


def reset():
    pipeline.instances = []
    pipeline.reply = default_reply


def modules():
    lmdeploy = types.ModuleType('lmdeploy')
    for obj in (pipeline, TurbomindEngineConfig, PytorchEngineConfig,
                GenerationConfig, Response):
        setattr(lmdeploy, obj.__name__, obj)
    return {'lmdeploy': lmdeploy}


reset()
