"""The OpenAI-compatible API path: any engine that serves `/v1/chat/completions`.

`OpenAISDK` keeps the server saturated (up to `concurrency` requests in flight on
an asyncio loop in a background thread), yields each result as it arrives so the
inferencer writes it at once, retries what is transient (timeouts, dropped
connections, 429, 5xx) and records what is not as a failed sample instead of
ending the run. What differs between engines (context length, overflow error
shapes, prompt logprobs) lives in `api_servers` strategies that the model holds.
"""
import asyncio
import email.utils
import logging
import os
import queue
import random
import threading
import time
from typing import Iterator, List

from opencompass.errors import (EngineNotInstalledError, ModelPathError,
                                OpenCompassError, PromptTooLongError,
                                ServerError)
from opencompass.models import api_servers
from opencompass.models._engine_utils import import_engine
from opencompass.models.base import BaseModel, Generation, cut_at_stop
from opencompass.utils.secrets import redact, redact_text, remember

logger = logging.getLogger(__name__)

# Request fields the OpenAI schema itself defines; anything else is engine-specific.
OPENAI_PARAMS = {'temperature', 'top_p', 'seed', 'frequency_penalty',
                 'presence_penalty', 'logit_bias'}
IGNORED_PARAMS = {'do_sample', 'max_new_tokens', 'max_tokens', 'stop',
                  'stop_words', 'num_beams', 'stopping_criteria'}
_DONE = object()


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


def _one_line(text, limit=500):
    return ' '.join(str(text).split())[:limit]


def _import_openai():
    return _import_client('openai')


def _import_client(name):
    """openai / httpx, imported at first use with an install hint."""
    return import_engine(name, 'api')


class _Failure(Exception):
    """A sample that failed for good; its message is the recorded error."""


class _Retryable(Exception):
    def __init__(self, message, retry_after=None):
        super().__init__(message)
        self.retry_after = retry_after


class _HTTPStatus(Exception):
    """A non-2xx answer on a raw (non-SDK) request, shaped like the SDK's."""

    def __init__(self, status, headers, text):
        super().__init__(f'HTTP {status}')
        self.status_code, self.headers, self.text = status, headers, text


class _RateLimiter:
    """At most `qps` request starts per second (None: no limit)."""

    def __init__(self, qps):
        self.interval = 1.0 / qps if qps else 0.0
        self.next_at = 0.0
        self.lock = asyncio.Lock()

    async def wait(self):
        if not self.interval:
            return
        async with self.lock:
            now = time.monotonic()
            delay = self.next_at - now
            self.next_at = max(now, self.next_at) + self.interval
        if delay > 0:
            await asyncio.sleep(delay)


def _retry_after(headers):
    """Seconds from a Retry-After header (delta-seconds or HTTP date)."""
    value = (headers or {}).get('retry-after')
    if not value:
        return None
    try:
        return max(0.0, float(value))
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
        return max(0.0, when.timestamp() - time.time())
    except (TypeError, ValueError):
        return None


class OpenAISDK(BaseModel):
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

    # ---- tokenizer and prompt length --------------------------------------
    @property
    def tokenizer(self):
        """The local tokenizer, loaded on first use; None when unknown.

        Never looked up by the served name unless it is a local checkpoint dir
        (a GGUF alias or an API name is not a tokenizer id)."""
        if not self._tokenizer_tried:
            self._tokenizer_tried = True
            self._tokenizer = self._load_tokenizer()
        return self._tokenizer

    def _load_tokenizer(self):
        path = self.tokenizer_path
        if path is None and self.path and os.path.isdir(str(self.path)) and any(
                os.path.isfile(os.path.join(self.path, f))
                for f in ('tokenizer.json', 'tokenizer_config.json')):
            path = self.path
        if path is None:
            return None
        from opencompass.utils.embedded import resolve_model_path
        try:
            from transformers import AutoTokenizer
            return AutoTokenizer.from_pretrained(resolve_model_path(path),
                                                 **self.tokenizer_kwargs)
        except ImportError:
            raise EngineNotInstalledError(
                'counting prompt tokens needs transformers: pip install '
                'transformers, or drop tokenizer_path') from None
        except (OSError, ValueError) as exc:
            raise ModelPathError(f'cannot load the tokenizer {path!r} '
                                 f'({_one_line(exc, 200)}); pass a local '
                                 'tokenizer_path or a hub id') from None

    def _render(self, body):
        """The text the server tokenizes: chat template applied in chat mode."""
        tok = self.tokenizer
        if 'prompt' in body:
            return body['prompt']
        if getattr(tok, 'chat_template', None):
            return tok.apply_chat_template(body['messages'], tokenize=False,
                                           add_generation_prompt=True)
        return '\n'.join(m['content'] for m in body['messages'])

    def _count(self, body):
        return len(self.tokenizer.encode(self._render(body),
                                         add_special_tokens='prompt' in body))

    def get_token_len(self, prompt) -> int:
        """Prompt tokens by the local tokenizer; without one, ~4 chars a token."""
        if self.tokenizer_path is None and self.server_info is None:
            try:
                self._setup()  # the served id may name a local checkpoint
            except OpenCompassError:
                pass
        body = self._body(prompt)
        if self.tokenizer is None:
            text = body.get('prompt') or ' '.join(m['content'] for m in body['messages'])
            return len(text) // 4 + 1
        return self._count(body)

    def _body(self, prompt):
        if self.is_chat:
            return {'messages': self.to_messages(prompt)}
        return {'prompt': self.to_text(prompt)}

    def _fit(self, body, max_out_len):
        """`(body, max_tokens)` under the context limit, by the rule every
        backend uses (base.fit_to_context): the answer reserves at most half
        of the context, the prompt is cut from the left (or fails, per
        policy) to the rest, and max_tokens is what the prompt leaves, up to
        max_out_len."""
        limit = self.context_limit
        if not limit or self.tokenizer is None:
            if limit and self.prompt_overflow == 'truncate':
                self._warn_once('notok', 'no tokenizer_path: prompts are not '
                                'counted, so overlong ones fail instead of being '
                                'truncated; pass tokenizer_path to cut them')
            return body, max_out_len
        reserve = min(max_out_len, limit // 2)
        budget = limit - reserve
        count = self._count(body)
        if count > budget:
            if budget < 1 or self.prompt_overflow == 'error':
                raise PromptTooLongError(count, limit,
                                         f'{reserve} tokens reserved for the answer')
            body = self._truncate(body, budget, count)
            self.truncated += 1
            count = self._count(body)
        return body, max(1, min(max_out_len, limit - count))

    def _truncate(self, body, budget, count):
        """Drop tokens from the left (the question's end is kept), re-counting
        since decode/encode and chat templates do not round-trip exactly."""
        tok = self.tokenizer
        for _ in range(4):
            excess = count - budget
            if 'prompt' in body:
                ids = tok.encode(body['prompt'], add_special_tokens=False)
                body = {'prompt': tok.decode(ids[excess + 1:])}
            else:
                body = {'messages': self._cut_messages(body['messages'], excess)}
            count = self._count(body)
            if count <= budget:
                return body
        raise PromptTooLongError(count, self.context_limit,
                                 'still too long after cutting from the left')

    def _cut_messages(self, messages, excess):
        """Cut `excess` tokens from the earliest message contents; emptied
        messages stay (with '') so roles keep alternating for the template."""
        tok, out = self.tokenizer, []
        for msg in messages:
            if excess > 0 and msg['content']:
                ids = tok.encode(msg['content'], add_special_tokens=False)
                drop = min(len(ids), excess + 1)
                excess -= drop
                msg = dict(msg, content=tok.decode(ids[drop:]))
            out.append(msg)
        return out

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

    # ---- perplexity -----------------------------------------------------------
    def get_ppl(self, inputs, mask_length=None) -> List[float]:
        """Mean negative log-likelihood per prompt, from prompt logprobs where
        the engine really scores every prompt token; refused elsewhere."""
        if self.is_chat:
            raise OpenCompassError("perplexity needs mode='base' (a chat API "
                                   'does not score prompts)')
        self._setup()
        method = self.strategy.ppl_method
        if method is None:
            raise OpenCompassError(
                f'{self.strategy.label} cannot score perplexity: '
                f'{self.strategy.ppl_refusal}; use a generation (GenInferencer) '
                'dataset, or serve the model with vLLM or SGLang')
        texts = [self.to_text(p) for p in inputs]
        masks = list(mask_length or [0] * len(texts))
        score = self._score_sglang if method == 'sglang' else self._score_echo

        async def handler(client, i):
            lps = await self._with_retries(lambda: score(client, texts[i]))
            return _mean_nll(lps, masks[i])

        out = [None] * len(texts)
        try:
            for i, nll in self._stream(len(texts), handler, self._concurrency(1),
                                       self._raw_client, self._desc('ppl')):
                out[i] = nll
        except _Failure as exc:
            raise ServerError(self._redact(f'perplexity request failed: {exc}')) from None
        return out

    def _raw_client(self):
        httpx = _import_client('httpx')
        return httpx.AsyncClient(headers=self._headers(), timeout=self.timeout)

    async def _post(self, client, url, payload):
        resp = await client.post(url, json=payload)
        if resp.status_code != 200:
            raise _HTTPStatus(resp.status_code, resp.headers, resp.text)
        return resp.json()

    async def _score_echo(self, client, text):
        """/v1/completions echo+logprobs; the count must cover the whole prompt."""
        data = await self._post(client, self.openai_api_base + '/completions', {
            'model': self.path, 'prompt': text, 'max_tokens': 1, 'echo': True,
            'logprobs': 1, 'temperature': 0})
        choice = (data.get('choices') or [{}])[0]
        lps = (choice.get('logprobs') or {}).get('token_logprobs')
        prompt_tokens = (data.get('usage') or {}).get('prompt_tokens')
        return self._check_logprobs(lps, prompt_tokens)

    async def _score_sglang(self, client, text):
        """SGLang /generate with logprob_start_len=0 scores every input token."""
        data = await self._post(client, self.server_info.root + '/generate', {
            'text': text, 'return_logprob': True, 'logprob_start_len': 0,
            'sampling_params': {'max_new_tokens': 1, 'temperature': 0}})
        meta = data.get('meta_info') or {}
        lps = [item[0] if isinstance(item, (list, tuple)) else item
               for item in meta.get('input_token_logprobs') or []]
        return self._check_logprobs(lps, meta.get('prompt_tokens'))

    def _check_logprobs(self, lps, prompt_tokens):
        """Refuse unless there is one logprob per prompt token: a server that
        scores only generated tokens would put every answer at chance."""
        if not prompt_tokens or not isinstance(lps, list) or len(lps) < prompt_tokens:
            raise _Failure(
                f'{self.strategy.label} returned {len(lps or [])} logprobs for a '
                f'{prompt_tokens}-token prompt: it does not score prompt tokens, '
                'so perplexity would land at chance; use a GenInferencer dataset '
                "or pass server_type='vllm'/'sglang' if that is what serves it")
        lps = lps[:prompt_tokens]
        if any(lp is None for lp in lps[1:]):
            raise _Failure(f'{self.strategy.label} returned null prompt logprobs')
        return lps


def _mean_nll(lps, mask):
    """Mean -logprob over prompt tokens after the first `mask` (and the first
    token, which has no context)."""
    scored = [-lp for lp in lps[max(1, mask or 0):]]
    return sum(scored) / len(scored) if scored else float('nan')


def _is_httpx_error(exc, name):
    """An httpx exception class by name, without importing httpx at load."""
    return any(cls.__name__ == name and cls.__module__.startswith('httpx')
               for cls in type(exc).__mro__)


class _LoopThread:
    """An asyncio loop in a daemon thread running one coroutine, whose results
    come back over a thread-safe queue to synchronous code."""

    def __init__(self, make_coro):
        self.queue = queue.Queue()
        self.loop = asyncio.new_event_loop()
        self.tasks, self.stopped = [], threading.Event()
        self.make_coro = make_coro
        self.thread = threading.Thread(target=self._main, name='openai-api-loop',
                                       daemon=True)
        self.thread.start()

    def _emit(self, item):
        """Hand a result over; False once the consumer has gone."""
        self.queue.put(item)
        return not self.stopped.is_set()

    def _main(self):
        asyncio.set_event_loop(self.loop)
        try:
            self.tasks.append(self.loop.create_task(self.make_coro(self._emit)))
            self.loop.run_until_complete(self.tasks[0])
        except asyncio.CancelledError:
            pass
        except BaseException as exc:  # noqa: BLE001 - re-raised in the caller
            self.queue.put((_DONE, _unwrap_group(exc)))
        finally:
            _close_loop(self.loop)
            self.queue.put((_DONE, None))

    def results(self):
        while True:
            index, result = self.queue.get()
            if index is _DONE:
                if result is not None:
                    raise result
                return
            yield index, result

    def stop(self):
        """Cancel what is in flight and wait for the thread to end."""
        self.stopped.set()
        if self.thread.is_alive():
            try:
                self.loop.call_soon_threadsafe(
                    lambda: [t.cancel() for t in self.tasks])
            except RuntimeError:  # the loop closed meanwhile
                pass
        self.thread.join(timeout=30)


def _unwrap_group(exc):
    while isinstance(exc, BaseExceptionGroup) and exc.exceptions:
        exc = exc.exceptions[0]
    return exc


def _close_loop(loop):
    """Cancel what is left, let it unwind, close the loop."""
    try:
        pending = [t for t in asyncio.all_tasks(loop) if not t.done()]
        for task in pending:
            task.cancel()
        if pending:
            loop.run_until_complete(asyncio.gather(*pending, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
    finally:
        loop.close()


class _Progress:
    """tqdm with requests/s (its rate) and output tokens/s (postfix)."""

    def __init__(self, total, desc):
        from tqdm import tqdm
        self.bar = tqdm(total=total, desc=desc, unit='req',
                        dynamic_ncols=True, smoothing=0)
        self.start = time.monotonic()
        self.tokens = 0
        self.last = 0.0

    def update(self, tokens):
        self.tokens += tokens or 0
        self.bar.update(1)
        now = time.monotonic()
        if now - self.last > 0.5:
            self.last = now
            rate = self.tokens / max(1e-6, now - self.start)
            self.bar.set_postfix_str(f'{rate:.1f} tok/s', refresh=False)

    def close(self):
        self.bar.close()


OpenAI = OpenAISDK
