"""HF path throughput: the project's HF model against a plain `model.generate` loop.

Both decode the same GSM8K chat prompts greedily with the same batch size and
max_out_len, in the same process, interleaved chunk by chunk; the figures are
printed as ratios against the plain loop (the baseline), plus transformers'
continuous batching (`generate_batch`) for reference. Example:

    python benchmarks/hf_throughput.py --n 32 --batch-size 8 --max-out-len 256
"""
import argparse
import json
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT_DATA = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..', '..',
                            'shared', 'data', 'gsm8k', 'test.jsonl')


def load_prompts(path, n):
    with open(path) as f:
        rows = [json.loads(line) for _, line in zip(range(n), f)]
    return [[{'role': 'HUMAN', 'prompt': r['question'] + "\nLet's think step by "
              'step. End with: The answer is <number>.'}] for r in rows]


def plain_generate(hf, prompts, batch_size, max_out_len):
    """The baseline: model.generate over batches in input order, padded left."""
    import torch
    tok, model = hf.tokenizer, hf.model
    texts = [hf.render(p) for p in prompts]
    n_tokens = 0
    for s in range(0, len(texts), batch_size):
        enc = tok(texts[s:s + batch_size], return_tensors='pt', padding=True,
                  add_special_tokens=False)
        with torch.inference_mode():
            out = model.generate(**enc, max_new_tokens=max_out_len, do_sample=False,
                                 pad_token_id=tok.pad_token_id)
        for row in out[:, enc['input_ids'].shape[1]:].tolist():
            n_tokens += next((i for i, t in enumerate(row)
                              if t in hf.eos_ids()), len(row))
    return n_tokens


def project(hf, prompts, batch_size, max_out_len):
    return sum(g.out_tokens for _, g in hf.generate_iter(prompts, max_out_len,
                                                         batch_size))


def continuous(hf, prompts, batch_size, max_out_len):
    from transformers import GenerationConfig
    ids = [hf.encode(p) for p in prompts]
    cfg = GenerationConfig(max_new_tokens=max_out_len, do_sample=False,
                           eos_token_id=sorted(hf.eos_ids()),
                           pad_token_id=hf.tokenizer.pad_token_id)
    out = hf.model.generate_batch(ids, generation_config=cfg)
    return sum(len(o.generated_tokens) for o in out.values())


def main():
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument('--n', type=int, default=32)
    ap.add_argument('--batch-size', type=int, default=8)
    ap.add_argument('--max-out-len', type=int, default=256)
    ap.add_argument('--data', default=DEFAULT_DATA)
    ap.add_argument('--model', default='embedded://smollm2-135m-instruct')
    ap.add_argument('--no-cb', action='store_true', help='skip generate_batch')
    args = ap.parse_args()
    from opencompass.models.huggingface import HuggingFacewithChatTemplate
    hf = HuggingFacewithChatTemplate(args.model)
    prompts = load_prompts(args.data, args.n)
    runs = [('plain model.generate (baseline)', plain_generate),
            ('project HF model', project)]
    if not args.no_cb:
        runs.append(('transformers generate_batch', continuous))
    # Interleave the methods chunk by chunk, so drift in the machine's speed
    # (shared CPUs) hits every method alike.
    totals = {name: [0.0, 0] for name, _ in runs}
    chunk = 2 * args.batch_size
    for s in range(0, len(prompts), chunk):
        for name, fn in runs:
            start = time.perf_counter()
            tokens = fn(hf, prompts[s:s + chunk], args.batch_size, args.max_out_len)
            totals[name][0] += time.perf_counter() - start
            totals[name][1] += tokens
    rows = [(name, *totals[name]) for name, _ in runs]
    base = rows[0][1]
    print(f'\n{args.n} GSM8K chat prompts, batch {args.batch_size}, '
          f'max_out_len {args.max_out_len}')
    print(f'{"":34}{"seconds":>9}{"samples/s":>11}{"out tok/s":>11}'
          f'{"speedup":>9}')
    for name, secs, tokens in rows:
        print(f'{name:34}{secs:9.1f}{args.n / secs:11.3f}{tokens / secs:11.1f}'
              f'{base / secs:8.2f}x')


if __name__ == '__main__':
    main()
