"""Server faults: every sample ends predicted or recorded as failed, none lost;
transient faults are retried a bounded number of times, 4xx never."""
import random
import time

import pytest
from fault_server import FaultServer

from opencompass.models.openai_api import OpenAISDK, _retry_after


def make(srv, **kw):
    model = OpenAISDK(openai_api_base=srv.base_url, **kw)
    model.retry_base = 0.01
    return model


def run(model, prompts):
    """All results by index, asserting each index arrives exactly once."""
    seen = list(model.generate_iter(prompts, 16))
    indices = [i for i, _ in seen]
    assert sorted(indices) == list(range(len(prompts)))
    return dict(seen)


def test_mixed_faults_lose_nothing():
    faults = ['429:0', '500', '503', 'drop', 'overflow:vllm', '400', 'ok']
    rng = random.Random(0)
    with FaultServer('vllm') as srv:
        plan = {}
        for i in range(30):
            plan[f'[s{i}]'] = [rng.choice(faults) for _ in range(rng.randint(0, 5))]
            srv.script(f'[s{i}]', *plan[f'[s{i}]'])
        results = run(make(srv, retry=3, concurrency=6),
                      [f'sample {i} [s{i}]' for i in range(30)])
        for i in range(30):
            marker = f'[s{i}]'
            ok, attempts = _expected(plan[marker], retry=3)
            assert srv.attempts(marker) == attempts
            if ok:
                assert results[i].text == f'echo: sample {i} {marker}'
                assert results[i].error is None
            else:
                assert results[i].error and results[i].text == ''


def _expected(actions, retry):
    """(succeeds, attempts) for a scripted sample: 'ok' ends it well, a
    final 4xx/overflow ends it badly, anything else is retried."""
    for attempt in range(retry + 1):
        action = actions[attempt] if attempt < len(actions) else 'ok'
        if action == 'ok':
            return True, attempt + 1
        if action in ('overflow:vllm', '400'):
            return False, attempt + 1
    return False, retry + 1


def test_5xx_retried_up_to_retry_then_recorded():
    with FaultServer('vllm') as srv:
        srv.script('[bad]', *['500'] * 10)
        results = run(make(srv, retry=2), ['[bad]', 'good'])
        assert srv.attempts('[bad]') == 3
    assert 'HTTP 500' in results[0].error and 'after 3 attempts' in results[0].error
    assert results[1].text == 'echo: good'


def test_transient_fault_then_success():
    with FaultServer('vllm') as srv:
        srv.script('[x]', '503', 'drop', '500', 'ok')
        results = run(make(srv, retry=3), ['[x]'])
        assert srv.attempts('[x]') == 4
    assert results[0].text == 'echo: [x]' and results[0].error is None


@pytest.mark.parametrize('status', ['400', '400:invalid model name'])
def test_4xx_not_retried(status):
    with FaultServer('vllm') as srv:
        srv.script('[x]', status, 'ok')
        results = run(make(srv, retry=3), ['[x]'])
        assert srv.attempts('[x]') == 1
    assert results[0].error.startswith('HTTP 400')


def test_retry_after_is_honoured():
    with FaultServer('vllm') as srv:
        srv.script('[x]', '429:1', 'ok')
        results = run(make(srv, retry=3), ['[x]'])
        first, second = srv.times('[x]')
    assert second - first >= 1.0
    assert results[0].error is None


def test_timeout_retried_and_bounded():
    with FaultServer('vllm') as srv:
        srv.script('[x]', 'slow:30', 'slow:30', 'slow:30')
        start = time.monotonic()
        results = run(make(srv, retry=1, timeout=0.5), ['[x]', 'quick'])
        elapsed = time.monotonic() - start
        assert srv.attempts('[x]') == 2
    assert 'timeout' in results[0].error and results[1].error is None
    assert elapsed < 10


def test_dead_server_fails_every_sample_in_bounded_time():
    with FaultServer('vllm') as srv:
        model = make(srv, retry=2)
        model._setup()
    start = time.monotonic()  # the server is gone now
    results = run(model, [f'q{i}' for i in range(5)])
    assert all('connection error' in r.error for r in results.values())
    assert time.monotonic() - start < 10


def test_generate_returns_empty_text_for_failed_samples():
    with FaultServer('vllm') as srv:
        srv.script('[bad]', '400')
        texts = make(srv).generate(['a', '[bad]', 'b'], 8)
    assert texts == ['echo: a', '', 'echo: b']


def test_backoff_is_exponential_jittered_and_capped():
    model = OpenAISDK()
    for attempt in range(4):
        delay = model._backoff(attempt)
        assert 0.5 * 2 ** attempt <= delay <= 1.5 * 2 ** attempt
    assert model._backoff(20) <= 1.5 * model.retry_cap
    assert model._backoff(0, retry_after=7) == 7


def test_retry_after_header_forms():
    assert _retry_after({'retry-after': '3'}) == 3.0
    assert _retry_after({}) is None
    date = time.strftime('%a, %d %b %Y %H:%M:%S GMT', time.gmtime(time.time() + 30))
    assert 25 <= _retry_after({'retry-after': date}) <= 31
