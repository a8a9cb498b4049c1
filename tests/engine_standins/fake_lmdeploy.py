"""Stand-in for `lmdeploy`: pipeline, engine configs, GenerationConfig, Response.

Accepted keywords come from the contract extracted from the pinned release
(contracts/lmdeploy-<version>.json), never from a list written here:
- `pipeline(model_path, ...)`: lmdeploy/api.py;
- `Pipeline.__call__(prompts, gen_config, **kw)` -> `infer(...)`, whose
  **kwargs reach `AsyncEngine.preprocess` (lmdeploy/pipeline.py,
  lmdeploy/serve/core/async_engine.py); `Pipeline.get_ppl(input_ids)`;
- `TurbomindEngineConfig`, `PytorchEngineConfig`, `GenerationConfig`,
  `Response` fields: lmdeploy/messages.py.

Engine behaviour modelled, each read in the pinned source:
- `TurbomindEngineConfig` is a pydantic dataclass with pydantic's default
  `extra='ignore'`: unknown keys are dropped silently (recorded here as
  `ignored`); `PytorchEngineConfig` is a plain dataclass and raises TypeError;
- a bad request does not raise: the pipeline returns a Response with
  finish_reason='error', empty text and error_message, e.g. an input of
  >= session_len tokens (lmdeploy/pipeline.py _infer,
  lmdeploy/serve/core/async_engine.py preprocess);
- without do_sample the engine forces top_k=1, temperature=1.0 and
  repetition_penalty=1.0 (async_engine.py, _determine_gen_config);
- stop words become stop token ids; a word that is more than one token is
  dropped with a warning (lmdeploy/tokenizer.py, indexes_containing_token),
  so it never stops generation; the stop token is not in the output;
- GenerationConfig asserts its ranges (messages.py, __post_init__);
- get_ppl returns the mean cross-entropy of all tokens after the first and
  refuses when prefix caching is on (async_engine.py, async_get_ppl).
"""
import dataclasses
import types

from engine_standins import (FakeTokenizer, check_kwargs, contract,
                             default_reply)
from engine_standins.fake_vllm import checkpoint_max_len, prompt_logprob

PIPELINE_KWARGS = contract.names('lmdeploy', 'pipeline') - {'model_path'}
INFER_KWARGS = contract.names('lmdeploy', 'Pipeline.infer',
                              'AsyncEngine.preprocess') - {'gen_config'}
TURBOMIND_FIELDS = contract.names('lmdeploy', 'TurbomindEngineConfig')
PYTORCH_FIELDS = contract.names('lmdeploy', 'PytorchEngineConfig')
GENERATION_FIELDS = contract.names('lmdeploy', 'GenerationConfig')
RESPONSE_FIELDS = contract.names('lmdeploy', 'Response')


class _Config:
    FIELDS = ()

    def __init__(self, **kwargs):
        check_kwargs(type(self).__name__, kwargs, self.FIELDS)
        self.kwargs = kwargs
        for key, value in kwargs.items():
            setattr(self, key, value)


class TurbomindEngineConfig(_Config):
    FIELDS = TURBOMIND_FIELDS

    def __init__(self, **kwargs):  # pydantic: extra keys are ignored
        self.ignored = sorted(set(kwargs) - self.FIELDS)
        super().__init__(**{k: v for k, v in kwargs.items()
                            if k in self.FIELDS})


class PytorchEngineConfig(_Config):
    FIELDS = PYTORCH_FIELDS


class GenerationConfig(_Config):
    FIELDS = GENERATION_FIELDS
    DEFAULTS = {'max_new_tokens': 512, 'do_sample': False, 'top_k': 50,
                'top_p': 1.0, 'temperature': 0.8, 'repetition_penalty': 1.0,
                'stop_words': None, 'return_ppl': False}

    def __init__(self, **kwargs):
        super().__init__(**kwargs)
        for key, value in {**self.DEFAULTS, **kwargs}.items():
            setattr(self, key, value)
        assert 0 <= self.top_p <= 1
        assert self.top_k >= 0, 'top_k can not be a negative integer'
        assert 0 <= self.temperature <= 2

    def effective(self, tokenizer):
        """What the engine decodes with (_determine_gen_config)."""
        out = {k: getattr(self, k) for k in self.DEFAULTS}
        out.update(self.kwargs)
        if not out['do_sample']:
            out.update(top_k=1, temperature=1.0, repetition_penalty=1.0)
        words = out.pop('stop_words') or []
        out['stop_token_ids'] = [tokenizer.encode(w, False)[0] for w in words
                                 if len(tokenizer.encode(w, False)) == 1]
        return out


@dataclasses.dataclass
class Response:
    text: str
    generate_token_len: int
    input_token_len: int
    finish_reason: str = None
    index: int = 0
    error_code: str = None
    error_message: str = None


assert {f.name for f in dataclasses.fields(Response)} <= RESPONSE_FIELDS


class Pipeline:
    def __init__(self, model_path, **kwargs):
        check_kwargs('pipeline', kwargs, PIPELINE_KWARGS)
        self.model_path = model_path
        self.init_kwargs = kwargs
        self.calls = []
        self.effective = []  # the decoding settings each request ran with
        self.closed = False
        self.tokenizer = FakeTokenizer(model_path)
        config = kwargs.get('backend_config')
        self.config = getattr(config, 'kwargs', {})
        self.session_len = (self.config.get('session_len')
                            or checkpoint_max_len(model_path) or 4096)

    def __call__(self, prompts, gen_config=None, **kwargs):
        check_kwargs('Pipeline.infer', kwargs, INFER_KWARGS)
        self.calls.append({'prompts': prompts, 'gen_config': gen_config,
                           **kwargs})
        configs = gen_config if isinstance(gen_config, list) else [
            gen_config or GenerationConfig()] * len(prompts)
        return [self._one(p, i, cfg)
                for i, (p, cfg) in enumerate(zip(prompts, configs))]

    def _one(self, prompt, index, gen_config):
        ids = self.tokenizer.encode(prompt)
        if len(ids) >= self.session_len:
            return Response('', 0, len(ids), 'error', index,
                            'CONTEXT_LENGTH_EXCEEDED',
                            f'Input length ({len(ids)}) must be smaller than '
                            f'the model context length ({self.session_len}).')
        cfg = gen_config.effective(self.tokenizer)
        self.effective.append(cfg)
        words = []
        for word in pipeline.reply(prompt).split()[:cfg['max_new_tokens']]:
            if self.tokenizer.encode(word, False)[0] in cfg['stop_token_ids']:
                break
            words.append(word)
        return Response(' '.join(words), len(words), len(ids), 'stop', index)

    def get_ppl(self, input_ids):
        if self.config.get('enable_prefix_caching'):
            raise ValueError('async_get_ppl is not supported when prefix '
                             'caching is on.')
        self.calls.append({'get_ppl': input_ids})
        if isinstance(input_ids[0], int):
            input_ids = [input_ids]
        assert all(len(ids) > 1 for ids in input_ids)
        return [sum(-prompt_logprob(j) for j in range(1, len(ids)))
                / (len(ids) - 1) for ids in input_ids]

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
