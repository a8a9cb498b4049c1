"""Throughput of the API path: the project's client against a plain load generator.

Starts `transformers serve --continuous-batching` on the embedded SmolLM2-135M
(or uses --api-base), builds N chat requests from GSM8K questions and measures,
in the same run and against the same server:

  (a) a plain load generator: httpx + asyncio, `concurrency` requests in flight;
  (b) the project's client: `OpenAISDK.generate_iter`, same concurrency;

and prints requests/s, output tokens/s and the ratio b/a (target >= 0.97), then
the batching gain: the client at concurrency 1 vs --concurrency on a subset.

    python benchmarks/api_throughput.py --n 16 --max-tokens 64
"""
import argparse
import asyncio
import importlib.util
import json
import pathlib
import signal
import sys
import time

REPO = pathlib.Path(__file__).resolve().parents[1]
GSM8K = REPO.parent / 'shared' / 'data' / 'gsm8k' / 'test.jsonl'
sys.path.insert(0, str(REPO))


def load_servers():
    """tests/servers.py by file path (tests/ is not a package)."""
    spec = importlib.util.spec_from_file_location('oc_bench_servers',
                                                  REPO / 'tests' / 'servers.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


def gsm8k_prompts(n):
    with open(GSM8K, encoding='utf-8') as f:
        rows = [json.loads(line) for line, _ in zip(f, range(n))]
    return [f"Question: {r['question']}\nLet's think step by step\nAnswer:"
            for r in rows]


async def _plain(base_url, model, prompts, concurrency, max_tokens):
    """The baseline: a worker pool of bare httpx posts, nothing else."""
    import httpx
    limits = httpx.Limits(max_connections=concurrency,
                          max_keepalive_connections=concurrency)
    todo = iter(prompts)
    tokens = []

    async def worker(client):
        for prompt in todo:
            resp = await client.post(base_url + '/chat/completions', json={
                'model': model, 'max_tokens': max_tokens, 'temperature': 0,
                'messages': [{'role': 'user', 'content': prompt}]})
            resp.raise_for_status()
            tokens.append(resp.json()['usage']['completion_tokens'])

    async with httpx.AsyncClient(timeout=3600, limits=limits) as client:
        await asyncio.gather(*(worker(client) for _ in range(concurrency)))
    return tokens


def run_plain(base_url, model, prompts, concurrency, max_tokens):
    start = time.perf_counter()
    tokens = asyncio.run(_plain(base_url, model, prompts, concurrency, max_tokens))
    return time.perf_counter() - start, tokens


_CLIENTS = {}


def run_client(base_url, model, prompts, concurrency, max_tokens):
    """One OpenAISDK per server, as a task holds one model: its one-time setup
    (probe, tokenizer load) is paid in the warm-up, not per measurement."""
    from opencompass.models.openai_api import OpenAISDK
    client = _CLIENTS.get(base_url)
    if client is None:
        client = _CLIENTS[base_url] = OpenAISDK(
            path=model, openai_api_base=base_url, retry=0, timeout=3600)
    client.concurrency = concurrency
    start = time.perf_counter()
    gens = [g for _, g in client.generate_iter(prompts, max_tokens)]
    elapsed = time.perf_counter() - start
    errors = [g.error for g in gens if g.error]
    if errors:
        raise SystemExit(f'{len(errors)} requests failed, e.g. {errors[0]}')
    return elapsed, [g.out_tokens or 0 for g in gens]


def report(name, elapsed, tokens):
    rps, tps = len(tokens) / elapsed, sum(tokens) / elapsed
    print(f'{name:<34} {len(tokens):>4} req {sum(tokens):>6} tok '
          f'{elapsed:8.2f} s {rps:7.3f} req/s {tps:8.2f} tok/s', flush=True)
    return tps


def measure(base_url, model, args):
    prompts = gsm8k_prompts(args.n)
    import openai  # noqa: F401 - a one-time import is not per-request cost
    # warm-up at full concurrency: model load, batch buffers and both clients'
    # one-time setup (imports, probe, tokenizer) are not measured
    run_plain(base_url, model, prompts[:args.concurrency], args.concurrency, 8)
    run_client(base_url, model, prompts[:args.concurrency], args.concurrency, 8)
    print(f'n={len(prompts)} concurrency={args.concurrency} '
          f'max_tokens={args.max_tokens} rounds={args.rounds}')
    sides = {'a': run_plain, 'b': run_client}
    totals = {'a': [0.0, []], 'b': [0.0, []]}
    for r in range(args.rounds):  # a,b then b,a: drift hits both alike
        for side in ('ab' if r % 2 == 0 else 'ba'):
            elapsed, tokens = sides[side](base_url, model, prompts,
                                          args.concurrency, args.max_tokens)
            name = ('(a) plain httpx' if side == 'a' else '(b) OpenAISDK') + f' r{r}'
            report(name, elapsed, tokens)
            totals[side][0] += elapsed
            totals[side][1] += tokens
    plain = report('(a) plain httpx load generator', *totals['a'])
    ours = report('(b) OpenAISDK.generate_iter', *totals['b'])
    print(f'ratio b/a (tokens/s): {ours / plain:.3f}  (target >= 0.97)')
    if args.n_sequential:
        subset = prompts[:args.n_sequential]
        seq = report('client, concurrency 1', *run_client(
            base_url, model, subset, 1, args.max_tokens))
        par = report(f'client, concurrency {args.concurrency}', *run_client(
            base_url, model, subset, args.concurrency, args.max_tokens))
        print(f'batching gain (tokens/s): {par / seq:.2f}x')


def main(argv=None):
    # SIGTERM (e.g. `timeout`) unwinds normally, so the server is stopped
    signal.signal(signal.SIGTERM, lambda *_: sys.exit(143))
    parser = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    parser.add_argument('--n', type=int, default=50)
    parser.add_argument('--concurrency', type=int, default=16)
    parser.add_argument('--max-tokens', type=int, default=256)
    parser.add_argument('--rounds', type=int, default=2,
                        help='interleaved (a, b) measurement rounds')
    parser.add_argument('--n-sequential', type=int, default=8,
                        help='requests in the sequential-vs-batched comparison '
                        '(0 skips it)')
    parser.add_argument('--api-base', help='use this server instead of starting '
                        'transformers serve')
    parser.add_argument('--model', help='served model name (default: discovered)')
    args = parser.parse_args(argv)
    if args.api_base:
        model = args.model or _discover(args.api_base)
        return measure(args.api_base.rstrip('/'), model, args)
    from opencompass.utils.embedded import resolve_model_path
    model_dir = resolve_model_path('embedded://smollm2-135m-instruct')
    with load_servers().transformers_server(model_dir) as server:
        print(f'transformers serve --continuous-batching at {server.base_url}')
        measure(server.base_url, server.model, args)


def _discover(api_base):
    from opencompass.models.openai_api import OpenAISDK
    client = OpenAISDK(openai_api_base=api_base)
    client._setup()
    return client.path


if __name__ == '__main__':
    main()
