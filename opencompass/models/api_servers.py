"""What differs between OpenAI-compatible servers, one small strategy per engine.

The API model (`OpenAISDK`) holds one of these instead of being subclassed per
engine. A strategy answers four questions the OpenAI schema leaves open:
how long the context is, how an overflowing prompt is reported, which extra
request fields the engine accepts, and whether its prompt logprobs can be
trusted for perplexity. The table in docs/en/advanced_guides/accelerator_intro.md
("What differs between servers") lists them; those of llama-cpp-python and
transformers serve were checked on real servers by tests/api.

`probe()` asks the server once (``GET /v1/models`` and, only where needed, one
native endpoint) and `detect()` picks the strategy from the answers.
"""
import dataclasses
import json
import logging
import os
import re
from typing import Optional

from opencompass.errors import ServerError, UnknownNameError

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class ServerInfo:
    """What the probe learned: `/v1/models` entries and native endpoints' JSON."""

    base_url: str
    models: list = dataclasses.field(default_factory=list)
    extra: dict = dataclasses.field(default_factory=dict)

    @property
    def root(self):
        """The server root: native endpoints (`/props`, `/generate`) live there."""
        url = self.base_url.rstrip('/')
        return url[:-3] if url.endswith('/v1') else url

    @property
    def owners(self):
        return {str(m.get('owned_by', '')).lower() for m in self.models}

    def model_entry(self, name=None):
        for entry in self.models:
            if name is None or entry.get('id') == name:
                return entry
        return self.models[0] if self.models else {}


@dataclasses.dataclass
class Overflow:
    """A prompt the server refused (or silently emptied) for lack of context."""

    prompt_tokens: Optional[int]
    limit: Optional[int]
    detail: str


# Numbers inside the overflow messages of every engine.
_LIMIT_PATTERNS = [
    r"maximum context length (?:is|of) (\d+)",
    r"maximum model length of (\d+)",
    r"model'?s? context length \((\d+) tokens\)",
    r"model context length \((\d+)\)",
    r"exceeds limit of (\d+)",
]
_PROMPT_PATTERNS = [
    r"(\d+) in (?:the messages|your prompt)",
    r"request has (\d+) input tokens",
    r"prompt \(length (\d+)\)",
    r"[Ii]nput \((\d+) tokens\)",
    r"[Ii]nput length \((\d+)\)",
    r"[Ii]nput prompt \((\d+) tokens\)",
]


def _first_int(patterns, text):
    for pattern in patterns:
        match = re.search(pattern, text)
        if match:
            return int(match.group(1))
    return None


def error_fields(body_text):
    """The message, code, type and numeric fields of an error body, whatever
    its nesting (`{"error": {...}}`, `{"object": "error", ...}`, `{"detail"}`)."""
    try:
        body = json.loads(body_text)
    except (TypeError, ValueError):
        return {'message': str(body_text or '')}
    if not isinstance(body, dict):
        return {'message': str(body)}
    inner = body.get('error') if isinstance(body.get('error'), dict) else body
    message = inner.get('message') or body.get('message') or body.get('detail')
    if not isinstance(message, str):
        message = (json.dumps(message) if message is not None
                   else str(body.get('error', '')))
    fields = dict(inner)
    fields['message'] = message
    return fields


class ServerStrategy:
    """The generic fallback; engines override the class attributes they change."""

    name = 'generic'
    label = 'an OpenAI-compatible server'
    owned_by = ()  # `/v1/models` owned_by values that identify the engine
    overflow_markers = (  # any of these in an error message = prompt too long
        r"maximum context length", r"maximum model length",
        r"longer than the model'?s? context length", r"context length exceeded",
        r"must be smaller than the model context length",
        r"exceeds the available context size", r"is too long and exceeds limit",
        r"context_length_exceeded", r"exceed_context_size_error")
    overflow_codes = ('context_length_exceeded', 'exceed_context_size_error')
    empty_length_is_overflow = True  # 200 + '' + finish 'length' + 0 tokens
    extra_params = frozenset()  # non-OpenAI sampling fields the engine accepts
    # HF generation kwarg -> the engine's request field, where they differ
    extra_renames = {}
    # sent with greedy decoding unless the config sets them: the server would
    # otherwise take them from the checkpoint's generation_config.json, which
    # the HF backend's greedy decoding never applies
    greedy_defaults = {}
    max_stop_words = 4  # OpenAI's own API refuses more; the rest are cut locally
    ppl_method = 'probe'  # 'echo', 'sglang', 'probe' (echo, verified) or None
    ppl_refusal = ''

    def __repr__(self):
        return f'<{type(self).__name__} {self.name}>'

    @classmethod
    def matches(cls, info: ServerInfo) -> bool:
        return bool(cls.owned_by) and bool(info.owners & set(cls.owned_by))

    # ---- probing ---------------------------------------------------------
    def enrich(self, info: ServerInfo, get) -> None:
        """Fetch the native endpoints this engine needs (once, at probe time)."""

    def context_length(self, info: ServerInfo, model=None) -> Optional[int]:
        entry = info.model_entry(model)
        value = entry.get('max_model_len') or _local_config_length(model)
        return int(value) if value else None

    # ---- requests --------------------------------------------------------
    def request_extras(self, params: dict, greedy=False) -> dict:
        """Extra body fields for this engine, from the non-OpenAI `params`
        (renamed where the engine spells them differently)."""
        extras = {self.extra_renames.get(k, k): v for k, v in params.items()
                  if self.extra_renames.get(k, k) in self.extra_params}
        if greedy:
            extras = {**self.greedy_defaults, **extras}
        return extras

    def sends(self, key):
        """Whether a generation kwarg reaches this engine (maybe renamed)."""
        return self.extra_renames.get(key, key) in self.extra_params

    # ---- errors ----------------------------------------------------------
    def overflow_from_error(self, status, body_text) -> Optional[Overflow]:
        """An HTTP error answer -> Overflow when it says the prompt is too long."""
        if status is None or status < 400:
            return None
        fields = error_fields(body_text)
        message = fields.get('message', '')
        code = str(fields.get('code', '')) + ' ' + str(fields.get('type', ''))
        marked = any(c in code for c in self.overflow_codes) or any(
            re.search(m, message, re.I) for m in self.overflow_markers)
        if not marked:
            return None
        prompt = fields.get('n_prompt_tokens')
        limit = fields.get('n_ctx')
        if prompt is None:
            prompt = _first_int(_PROMPT_PATTERNS, message)
        if limit is None:
            limit = _first_int(_LIMIT_PATTERNS, message)
        return Overflow(prompt, limit, f'{self.label} answered HTTP {status}: '
                        + ' '.join(message.split())[:300])

    def overflow_from_response(self, text, finish_reason, completion_tokens,
                               prompt_tokens=None) -> Optional[Overflow]:
        """A 200 answer that is really an overflow (LMDeploy before 0.6 or so)."""
        if (self.empty_length_is_overflow and not text
                and finish_reason == 'length' and not completion_tokens):
            return Overflow(prompt_tokens, None, f'{self.label} answered an '
                            "empty text with finish_reason 'length'")
        return None


class VLLMStrategy(ServerStrategy):
    name = 'vllm'
    label = 'vLLM'
    owned_by = ('vllm',)
    overflow_markers = (r"maximum context length", r"maximum model length",
                        r"is too long and exceeds limit")
    empty_length_is_overflow = False
    # ChatCompletionRequest / CompletionRequest fields of vLLM 0.33
    # (vllm/entrypoints/openai/*/protocol.py); an omitted one is taken from
    # the checkpoint's generation_config.json (ModelConfig.generation_config
    # defaults to 'auto')
    extra_params = frozenset({'top_k', 'min_p', 'repetition_penalty',
                              'stop_token_ids', 'min_tokens'})
    extra_renames = {'min_new_tokens': 'min_tokens'}
    greedy_defaults = {'repetition_penalty': 1.0}
    max_stop_words = None
    ppl_method = 'echo'  # /v1/completions echo+logprobs; first token is null


class SGLangStrategy(ServerStrategy):
    name = 'sglang'
    label = 'SGLang'
    owned_by = ('sglang',)
    overflow_markers = (r"longer than the model'?s? context length",
                        r"exceeds the model'?s? maximum context length",
                        r"maximum context length")
    empty_length_is_overflow = False
    # request fields of SGLang 0.5.23 (sglang/srt/entrypoints/openai/
    # protocol.py); omitted ones come from generation_config.json
    # (--sampling-defaults defaults to 'model')
    extra_params = frozenset({'top_k', 'min_p', 'repetition_penalty',
                              'stop_token_ids', 'min_tokens'})
    extra_renames = {'min_new_tokens': 'min_tokens'}
    greedy_defaults = {'repetition_penalty': 1.0}
    max_stop_words = None
    ppl_method = 'sglang'  # POST /generate, logprob_start_len=0

    def enrich(self, info, get):
        """Older SGLang lacks `max_model_len` in /v1/models: ask /get_server_info."""
        if any(m.get('max_model_len') for m in info.models):
            return
        for path in ('/get_server_info', '/server_info'):
            data = get(info.root + path)
            if isinstance(data, dict):
                info.extra['server_info'] = data
                return

    def context_length(self, info, model=None):
        found = super().context_length(info, model)
        server = info.extra.get('server_info') or {}
        return found or server.get('context_length') or server.get(
            'max_req_input_len') or None


class LMDeployStrategy(ServerStrategy):
    name = 'lmdeploy'
    label = 'LMDeploy'
    owned_by = ('lmdeploy',)
    overflow_markers = (r"must be smaller than the model context length",
                        r"context length", r"context_length_exceeded")
    empty_length_is_overflow = True  # older releases: 200, '' and 'length'
    extra_params = frozenset({'top_k', 'min_p', 'repetition_penalty'})
    max_stop_words = None
    ppl_method = None
    ppl_refusal = 'LMDeploy does not return prompt logprobs'

    def context_length(self, info, model=None):
        """Not exposed over HTTP: the config's max_seq_len decides."""
        return None


class LlamaCppStrategy(ServerStrategy):
    name = 'llama.cpp'
    label = 'llama.cpp server'
    owned_by = ('llamacpp',)
    overflow_markers = (r"exceeds the available context size",)
    overflow_codes = ('exceed_context_size_error',)
    empty_length_is_overflow = False
    extra_params = frozenset({'top_k', 'min_p', 'repeat_penalty'})
    max_stop_words = None
    ppl_method = None
    ppl_refusal = ('the llama.cpp server returns logprobs only for generated '
                   'tokens, never for the prompt')

    @classmethod
    def matches(cls, info):
        return super().matches(info) or 'props' in info.extra

    def enrich(self, info, get):
        if 'props' not in info.extra:
            data = get(info.root + '/props')
            if isinstance(data, dict):
                info.extra['props'] = data

    def context_length(self, info, model=None):
        """`/props` n_ctx is the per-slot limit; `/v1/models` meta.n_ctx_train
        is only the training length and is never used."""
        props = info.extra.get('props') or {}
        settings = props.get('default_generation_settings') or {}
        value = settings.get('n_ctx') or props.get('n_ctx')
        return int(value) if value else None

    def request_extras(self, params, greedy=False):
        extras = super().request_extras(params, greedy)
        extras['repeat_penalty'] = params.get('repetition_penalty', 1.0)
        return extras

    def sends(self, key):
        return key == 'repetition_penalty' or super().sends(key)


class LlamaCppPythonStrategy(LlamaCppStrategy):
    name = 'llama-cpp-python'
    label = 'llama-cpp-python server'
    owned_by = ('me',)  # its /v1/models says owned_by "me" (measured, 0.3.x)
    overflow_markers = (r"maximum context length is \d+",)
    overflow_codes = ('context_length_exceeded',)
    ppl_refusal = ('llama-cpp-python echo logprobs are off by one (each prompt '
                   'token gets the score of the next; upstream issue #1983)')

    @classmethod
    def matches(cls, info):
        if info.owners & set(cls.owned_by):
            return True
        return any(str(m.get('id', '')).endswith('.gguf') and 'meta' not in m
                   and m.get('owned_by') not in ('llamacpp',) for m in info.models)

    def enrich(self, info, get):
        """Nothing to ask: /props is 404 and n_ctx is not exposed (measured)."""

    def context_length(self, info, model=None):
        return None


class TransformersStrategy(ServerStrategy):
    name = 'transformers'
    label = 'transformers serve'
    owned_by = ()
    overflow_markers = ()
    overflow_codes = ()
    empty_length_is_overflow = False
    extra_params = frozenset()  # it answers 422 to any unknown request field
    max_stop_words = None  # accepted but ignored (measured): cut locally
    ppl_method = None
    ppl_refusal = ('transformers serve ignores echo and logprobs on '
                   '/v1/completions (measured)')

    @classmethod
    def matches(cls, info):
        """Its entries are owned_by 'local' and carry a load `status` object."""
        return any(m.get('owned_by') == 'local' and isinstance(m.get('status'), dict)
                   for m in info.models)

    def context_length(self, info, model=None):
        """Never reported, never enforced (a 10k-token prompt is accepted past
        8192 positions, measured): read max_position_embeddings when the
        served id is a local checkpoint directory."""
        return _local_config_length(model)


def _local_config_length(model):
    if not model or not os.path.isfile(os.path.join(str(model), 'config.json')):
        return None
    try:
        with open(os.path.join(model, 'config.json'), encoding='utf-8') as f:
            config = json.load(f)
    except (OSError, ValueError):
        return None
    config = config.get('text_config') or config
    value = config.get('max_position_embeddings') or config.get('n_positions')
    return int(value) if value else None


STRATEGIES = [VLLMStrategy, SGLangStrategy, LMDeployStrategy, LlamaCppStrategy,
              LlamaCppPythonStrategy, TransformersStrategy, ServerStrategy]
ALIASES = {
    'vllm': 'vllm', 'sglang': 'sglang', 'lmdeploy': 'lmdeploy',
    'llama.cpp': 'llama.cpp', 'llamacpp': 'llama.cpp', 'llama-server': 'llama.cpp',
    'llama_cpp': 'llama.cpp', 'llama-cpp-python': 'llama-cpp-python',
    'llama_cpp_python': 'llama-cpp-python', 'transformers': 'transformers',
    'transformers-serve': 'transformers', 'transformers serve': 'transformers',
    'generic': 'generic', 'openai': 'generic',
}


def get_strategy(name) -> ServerStrategy:
    """A strategy by (case-insensitive) name, for `server_type=`."""
    key = ALIASES.get(str(name).strip().lower())
    for cls in STRATEGIES:
        if cls.name == key:
            return cls()
    raise UnknownNameError(
        f'unknown server_type {name!r}; use one of: '
        + ', '.join(cls.name for cls in STRATEGIES))


def detect(info: ServerInfo) -> ServerStrategy:
    for cls in STRATEGIES:
        if cls.matches(info):
            return cls()
    return ServerStrategy()


def probe(base_url, get, server_type=None):
    """Ask the server once who it is. `get(url)` returns parsed JSON, None for
    a non-200 answer, and raises ServerError when nothing answers."""
    models = get(base_url.rstrip('/') + '/models')
    if not isinstance(models, dict) or not isinstance(models.get('data'), list):
        raise ServerError(
            f'{base_url}/models did not answer a model list; is {base_url} an '
            'OpenAI-compatible API? Pass --api-base ending in /v1')
    info = ServerInfo(base_url, models['data'])
    if server_type:
        strategy = get_strategy(server_type)
    else:
        strategy = detect(info)
        if type(strategy) is ServerStrategy:
            strategy = _detect_by_endpoints(info, get)
    strategy.enrich(info, get)
    logger.info('API server at %s looks like %s', base_url, strategy.label)
    return info, strategy


def _detect_by_endpoints(info, get):
    """Unknown owned_by: llama.cpp answers /props, SGLang /get_server_info."""
    props = get(info.root + '/props')
    if isinstance(props, dict) and 'default_generation_settings' in props:
        info.extra['props'] = props
        return LlamaCppStrategy()
    server_info = get(info.root + '/get_server_info')
    if isinstance(server_info, dict):
        info.extra['server_info'] = server_info
        return SGLangStrategy()
    return ServerStrategy()
