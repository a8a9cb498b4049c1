"""The machinery under the OpenAI-compatible API path: the asyncio loop in a
background thread whose results reach synchronous code over a queue, a
request-rate limiter, Retry-After parsing, the failure kinds that decide
between retrying and recording a failed sample, and the progress bar.

Nothing here knows about prompts or engines; `openai_api.OpenAISDK` drives it.
"""
import asyncio
import email.utils
import queue
import threading
import time

from opencompass.models._engine_utils import import_engine

_DONE = object()


def _one_line(text, limit=500):
    return ' '.join(str(text).split())[:limit]


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
