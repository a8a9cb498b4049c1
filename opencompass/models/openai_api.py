"""The OpenAI-compatible API path: any engine that serves `/v1/chat/completions`.

`OpenAISDK` keeps the server saturated (up to `concurrency` requests in flight on
an asyncio loop in a background thread), yields each result as it arrives so the
inferencer writes it at once, retries what is transient (timeouts, dropped
connections, 429, 5xx) and records what is not as a failed sample instead of
ending the run. What differs between engines (context length, overflow error
shapes, prompt logprobs) lives in `api_servers` strategies that the model holds.

The class is split by concern: the transport machinery (event-loop thread,
rate limiter, failure kinds) is `api_transport`, prompt length and truncation
`api_prompt_fit`, perplexity `api_perplexity`; this module holds the probing,
the requests, the retry policy and the results.
"""
import asyncio
import logging
import os
import random
import threading
from typing import Iterator, List

from opencompass.errors import OpenCompassError, PromptTooLongError, ServerError
from opencompass.models import api_servers
from opencompass.models.api_perplexity import PromptScoring
from opencompass.models.api_prompt_fit import PromptFitting
from opencompass.models.api_transport import (  # noqa: F401 (_retry_after: tests)
    _Failure, _HTTPStatus, _import_client, _is_httpx_error, _LoopThread,
    _one_line, _Progress, _RateLimiter, _Retryable, _retry_after)
from opencompass.models.base import BaseModel, Generation, cut_at_stop
from opencompass.utils.secrets import redact, redact_text, remember

logger = logging.getLogger(__name__)

# Request fields the OpenAI schema itself defines; anything else is engine-specific.
OPENAI_PARAMS = {'temperature', 'top_p', 'seed', 'frequency_penalty',
                 'presence_penalty', 'logit_bias'}
IGNORED_PARAMS = {'do_sample', 'max_new_tokens', 'max_tokens', 'stop',
                  'stop_words', 'num_beams', 'stopping_criteria'}


# ---- secrets ----------------------------------------------------------------
def redact_secrets(cfg):
    """A copy of a (nested) config with API keys replaced by '***' (the one
    rule in `opencompass.utils.secrets`, also used when dumping configs)."""
    return redact(cfg)


def _redact_text(text, key=None):
    """An error or log line with the key (and anything shaped like one) hidden
    (the one rule of `opencompass.utils.secrets`)."""
    remember(key)
    return redact_text(text)


class OpenAISDK(PromptFitting, PromptScoring, BaseModel):
    """A model served over an OpenAI-compatible API (vLLM, SGLang, LMDeploy,
    llama.cpp, llama-cpp-python, transformers serve, OpenAI itself)."""

    engine = ('openai', 'api')

    is_api = True
    retry_base = 1.0  # first backoff in seconds; doubled per attempt, jittered
    retry_cap = 60.0
    probe_timeout = 10.0

    def __init__(self, path=None, key='EMPTY',
                 openai_api_base='http://127.0.0.1:8000/v1', mode='chat',
                 tokenizer_path=None, tokenizer_kwargs=None, max_seq_len=None,
                 meta_template=None, stop_words=None, generation_kwargs=None,
                 batch_size=8, concurrency=None, query_per_second=None, retry=3,
                 timeout=600, server_type=None, prompt_overflow='truncate',
                 max_out_len=512):
        if mode not in ('chat', 'base'):
            raise OpenCompassError(f"mode must be 'chat' or 'base', not {mode!r}")
        if prompt_overflow not in ('truncate', 'error'):
            raise OpenCompassError("prompt_overflow must be 'truncate' or 'error', "
                                   f'not {prompt_overflow!r}')
        super().__init__(path, max_seq_len=max_seq_len, meta_template=meta_template,
                         generation_kwargs=generation_kwargs, stop_words=stop_words)
        self.mode = mode
        self.is_chat = mode == 'chat'
        self._key = self._resolve_key(key)
        self.openai_api_base = self._normalize_base(openai_api_base)
        self.tokenizer_path = tokenizer_path
        self.tokenizer_kwargs = dict(tokenizer_kwargs or {})
        self.batch_size = batch_size
        self.concurrency = concurrency
        self.query_per_second = query_per_second
        self.retry = max(0, int(retry))
        self.timeout = timeout
        self.server_type = server_type
        self.prompt_overflow = prompt_overflow
        self.max_out_len = max_out_len
        self.strategy = (api_servers.get_strategy(server_type)
                         if server_type else None)
        self.server_info = None
        self.context_limit = None
        self._tokenizer = None
        self._tokenizer_tried = False
        self._warned = set()
        self._setup_lock = threading.Lock()

    # ---- construction helpers -------------------------------------------
    @staticmethod
    def _resolve_key(key):
        """'ENV' reads $OPENAI_API_KEY (OpenCompass habit); a list takes its first."""
        if isinstance(key, (list, tuple)):
            key = next((k for k in key if k), 'EMPTY')
        if key == 'ENV':
            key = os.environ.get('OPENAI_API_KEY', '')
            if not key:
                raise OpenCompassError("key='ENV' but $OPENAI_API_KEY is not set")
        return key or 'EMPTY'

    @staticmethod
    def _normalize_base(base):
        """Accept a full endpoint URL too (old OpenCompass configs pass one)."""
        if isinstance(base, (list, tuple)):
            base = base[0]
        base = str(base).rstrip('/')
        for suffix in ('/chat/completions', '/completions'):
            if base.endswith(suffix):
                base = base[:-len(suffix)]
        return base

    @property
    def key(self):
        return '***'

    def __repr__(self):
        return (f'{type(self).__name__}(path={self.path!r}, openai_api_base='
                f'{self.openai_api_base!r}, mode={self.mode!r}, server_type='
                f'{getattr(self.strategy, "name", self.server_type)!r}, key=\'***\')')

    def __getstate__(self):
        """Picklable (runners may ship models to workers): no lock, no
        tokenizer, no probe result; they are rebuilt on first use."""
        state = dict(self.__dict__)
        state.update(_setup_lock=None, _tokenizer=None, _tokenizer_tried=False)
        return state

    def __setstate__(self, state):
        self.__dict__.update(state)
        self._setup_lock = threading.Lock()

    def _redact(self, text):
        return _redact_text(text, self._key)

    def _warn_once(self, tag, msg, *args):
        if tag not in self._warned:
            self._warned.add(tag)
            logger.warning(msg, *args)

    # ---- probing (once, synchronously) ------------------------------------
    def _headers(self):
        return {'Authorization': f'Bearer {self._key}'}

    def _sync_get(self, url, required=False):
        """GET JSON; None for a non-200 answer, unless `required`."""
        httpx = _import_client('httpx')
        try:
            resp = httpx.get(url, headers=self._headers(),
                             timeout=self.probe_timeout)
        except httpx.HTTPError as exc:
            if not required:
                return None
            raise ServerError(
                f'cannot reach the API server at {url} ({type(exc).__name__}); '
                'start the server or pass --api-base') from None
        if resp.status_code != 200:
            if required:
                raise ServerError(
                    f'{url} answered HTTP {resp.status_code}: '
                    f'{self._redact(_one_line(resp.text, 200))}; check --api-base '
                    'and the API key')
            return None
        try:
            return resp.json()
        except ValueError:
            return None

    def _setup(self):
        """Probe the server once: strategy, served model name, context limit."""
        with self._setup_lock:
            if self.server_info is not None:
                return
            _import_openai()  # fail before probing when the client is missing
            info, strategy = api_servers.probe(
                self.openai_api_base,
                lambda url: self._sync_get(url, required=url.endswith('/models')),
                self.server_type)
            self.strategy = strategy
            if self.path is None:
                self.path = self._discover_model(info)
            limits = [x for x in (self.max_seq_len,
                                  strategy.context_length(info, self.path)) if x]
            self.context_limit = min(limits) if limits else None
            self.server_info = info
            if self._tokenizer is None:
                self._tokenizer_tried = False  # the served id may be a local dir
            if self.context_limit:
                _ = self.tokenizer  # load here, not on the event loop

    def _discover_model(self, info):
        names = [m.get('id') for m in info.models if m.get('id')]
        if len(names) == 1:
            return names[0]
        served = ', '.join(map(str, names[:10])) or 'none'
        if len(names) > 10:
            served += ', ...'
        raise ServerError(f'{self.openai_api_base} serves {len(names)} models '
                          f'({served}); pass --api-model NAME to pick one')

    # ---- request building ---------------------------------------------------
    def _sampling(self, extra_kwargs):
        """Split generation kwargs into OpenAI fields and engine extras;
        greedy unless the config asks for sampling."""
        params = {**self.generation_kwargs, **extra_kwargs}
        if params.get('do_sample') is False:
            params['temperature'] = 0
        params.setdefault('temperature', 0)
        openai_fields = {k: v for k, v in params.items() if k in OPENAI_PARAMS}
        others = {k: v for k, v in params.items()
                  if k not in OPENAI_PARAMS and k not in IGNORED_PARAMS}
        extras = self.strategy.request_extras(
            others, greedy=not params.get('temperature'))
        dropped = sorted(k for k in others if not self.strategy.sends(k))
        if dropped:
            self._warn_once('drop', '%s does not accept %s; not sent',
                            self.strategy.label, ', '.join(dropped))
        return openai_fields, extras

    def _stops(self, extra_kwargs):
        """Config stop words plus a call's `stopping_criteria` (the inferencer
        passes a dataset's stop strings that way, as in OpenCompass)."""
        extra = [w for w in extra_kwargs.get('stopping_criteria') or []
                 if isinstance(w, str) and w not in self.stop_words]
        return self.stop_words + extra

    def _request(self, prompt, max_out_len, extra_kwargs):
        """The SDK call's keyword arguments for one prompt (or PromptTooLongError)."""
        body, max_tokens = self._fit(self._body(prompt), max_out_len)
        fields, extras = self._sampling(extra_kwargs)
        request = dict(body, model=self.path, max_tokens=max_tokens, **fields)
        stop = self._stops(extra_kwargs)
        if self.strategy.max_stop_words:
            stop = stop[:self.strategy.max_stop_words]
        if stop:
            request['stop'] = list(stop)
        if extras:
            request['extra_body'] = extras
        return request

    # ---- one request, with retries ----------------------------------------
    def _classify(self, exc):
        """An exception -> _Retryable (transient) or _Failure (final)."""
        openai = _import_openai()
        if isinstance(exc, (_Failure, _Retryable)):
            return exc
        if isinstance(exc, _HTTPStatus):
            return self._classify_status(exc.status_code, exc.text, exc.headers)
        if isinstance(exc, openai.APIStatusError):
            return self._classify_status(exc.status_code, exc.response.text,
                                         exc.response.headers)
        if isinstance(exc, (openai.APITimeoutError, asyncio.TimeoutError)) or (
                _is_httpx_error(exc, 'TimeoutException')):
            return _Retryable(f'no answer within timeout={self.timeout}s')
        if isinstance(exc, openai.APIConnectionError) or _is_httpx_error(
                exc, 'TransportError'):
            cause = exc.__cause__ or exc
            return _Retryable(f'connection error: {type(cause).__name__}: '
                              f'{_one_line(cause, 200)}')
        return _Failure(f'{type(exc).__name__}: {_one_line(exc, 300)}')

    def _classify_status(self, status, text, headers):
        """An HTTP error: overflow and 4xx are final; 408, 429, 5xx transient."""
        overflow = self.strategy.overflow_from_error(status, text)
        if overflow is not None:
            return _Failure(str(PromptTooLongError(
                overflow.prompt_tokens or '?', overflow.limit or '?',
                overflow.detail)))
        message = api_servers.error_fields(text).get('message') or text
        reason = f'HTTP {status}: {_one_line(message, 300)}'
        if status in (408, 429) or status >= 500:
            return _Retryable(reason, _retry_after(headers))
        return _Failure(reason)

    async def _with_retries(self, call):
        """Run `call()` up to 1 + retry times; raise _Failure when done trying."""
        for attempt in range(self.retry + 1):
            try:
                return await call()
            except asyncio.CancelledError:
                raise
            except Exception as exc:  # noqa: BLE001 - classified below
                verdict = self._classify(exc)
                if isinstance(verdict, _Failure):
                    raise verdict from None
                if attempt == self.retry:
                    raise _Failure(f'{verdict} (gave up after {attempt + 1} '
                                   'attempts)') from None
                await asyncio.sleep(self._backoff(attempt, verdict.retry_after))
        raise AssertionError('unreachable')

    def _backoff(self, attempt, retry_after=None):
        """Retry-After when the server gives one, else exponential + jitter."""
        if retry_after is not None:
            return min(retry_after, self.timeout or retry_after)
        delay = min(self.retry_cap, self.retry_base * 2 ** attempt)
        return delay * (0.5 + random.random())

    async def _generate_one(self, client, prompt, max_out_len, extra_kwargs):
        """One prompt -> Generation; never raises (except cancellation)."""
        try:
            request = self._request(prompt, max_out_len, extra_kwargs)
        except PromptTooLongError as exc:
            return Generation(error=str(exc))
        except Exception as exc:  # noqa: BLE001 - a bad prompt fails one sample
            reason = f'{type(exc).__name__}: {_one_line(exc)}'
            return Generation(error=self._redact(reason))
        create = (client.chat.completions.create if self.is_chat
                  else client.completions.create)
        try:
            resp = await self._with_retries(lambda: create(**request))
            return self._to_generation(resp, self._stops(extra_kwargs))
        except _Failure as exc:
            return Generation(error=self._redact(_one_line(exc)))

    def _to_generation(self, resp, stops):
        if not getattr(resp, 'choices', None):
            raise _Failure('the server answered no choices')
        choice = resp.choices[0]
        text = (choice.message.content if self.is_chat else choice.text) or ''
        usage = getattr(resp, 'usage', None)
        out_tokens = getattr(usage, 'completion_tokens', None)
        overflow = self.strategy.overflow_from_response(
            text, choice.finish_reason, out_tokens,
            getattr(usage, 'prompt_tokens', None))
        if overflow is not None:
            raise _Failure(str(PromptTooLongError(
                overflow.prompt_tokens or '?', overflow.limit or self.context_limit
                or '?', overflow.detail)))
        # cut locally too: some engines ignore `stop` (transformers serve)
        text = cut_at_stop(text, stops)
        if self.end_str:
            text = text.split(self.end_str)[0]
        return Generation(text=text, out_tokens=out_tokens)

    # ---- the async pool, driven from synchronous code ----------------------
    def _async_client(self):
        openai = _import_openai()
        return openai.AsyncOpenAI(api_key=self._key, base_url=self.openai_api_base,
                                  max_retries=0, timeout=self.timeout)

    async def _pool(self, n, handler, concurrency, emit, make_client):
        """`concurrency` workers pull indices and emit results as they finish."""
        indices = iter(range(n))
        limiter = _RateLimiter(self.query_per_second)

        async def worker(client):
            for i in indices:
                await limiter.wait()
                if not emit((i, await handler(client, i))):
                    return

        async with make_client() as client:
            async with asyncio.TaskGroup() as group:
                for _ in range(max(1, min(concurrency, n))):
                    group.create_task(worker(client))

    def _stream(self, n, handler, concurrency, make_client, desc):
        """Yield (i, result) in completion order from a loop in a thread;
        closing the generator cancels every request in flight."""
        runner = _LoopThread(lambda emit: self._pool(
            n, handler, concurrency, emit, make_client))
        bar = _Progress(n, desc)
        try:
            for index, result in runner.results():
                bar.update(getattr(result, 'out_tokens', None))
                yield index, result
        finally:
            bar.close()
            runner.stop()

    def _desc(self, what):
        """A short progress label: the served name's last path part."""
        return f'{os.path.basename(str(self.path).rstrip("/"))[:32]} {what}'

    def _concurrency(self, batch_size):
        return self.concurrency or (batch_size if batch_size and batch_size > 1
                                    else self.batch_size) or 1

    # ---- the contract ---------------------------------------------------------
    def generate_iter(self, inputs, max_out_len=None, batch_size=1,
                      **kwargs) -> Iterator[tuple]:
        """Yield ``(index, Generation)`` as results arrive (completion order)."""
        inputs = list(inputs)
        if not inputs:
            return
        self._setup()
        max_out_len = max_out_len or self.max_out_len

        async def handler(client, i):
            return await self._generate_one(client, inputs[i], max_out_len, kwargs)

        yield from self._stream(len(inputs), handler, self._concurrency(batch_size),
                                self._async_client, self._desc('API'))
        self.report_truncation()

    def generate_batch(self, inputs, max_out_len=None, **kwargs) -> List[Generation]:
        results = [None] * len(inputs)
        for index, gen in self.generate_iter(inputs, max_out_len, **kwargs):
            results[index] = gen
        return results

    def generate(self, inputs, max_out_len=None, **kwargs) -> List[str]:
        """Texts in input order; a failed sample is '' (its error is logged)."""
        gens = self.generate_batch(inputs, max_out_len, **kwargs)
        failed = [g.error for g in gens if g.error]
        if failed:
            logger.warning('%d of %d API requests failed; first error: %s',
                           len(failed), len(gens), failed[0])
        return [g.text if not g.error else '' for g in gens]

    def report_truncation(self):
        if self.truncated:
            logger.warning('%d prompt(s) did not fit the context limit of %s tokens '
                           'minus max_out_len and were cut from the left',
                           self.truncated, self.context_limit)

    def close(self):
        """Nothing persistent: each generate_iter opens and closes its client."""


def _import_openai():
    return _import_client('openai')


OpenAI = OpenAISDK
