"""Perplexity path throughput: the project's grouped `get_ppl` against a plain
one-forward-per-option loop, on real multiple-choice data.

The prompts are those of a dataset config (default ARC_c_ppl: ARC-Challenge,
each question followed by each option), rendered by the project's own prompt
code. Three ways score the same options in the same process, interleaved chunk
by chunk so that load on the machine hits all alike:

- plain:    one forward pass per option text (the baseline),
- dense:    one padded forward per question, its options as a batch,
- project:  `model.get_ppl_groups` as PPLInferencer calls it: each question's
            shared prompt read once, questions packed by length.

Printed: seconds, options/s, ratio against plain, accuracy, and how many
predictions agree with the plain loop (they should all agree). Example:

    COMPASS_DATA_CACHE=../shared python benchmarks/ppl_throughput.py --n 200
    python benchmarks/ppl_throughput.py --dataset mmlu_ppl --only \
        lukaemon_mmlu_anatomy --n 50
"""
import argparse
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))

DEFAULT_CACHE = os.path.join(os.path.dirname(os.path.abspath(__file__)), '..',
                             '..', 'shared')


def load_questions(dataset, only, n, model):
    """(option texts per question, gold label index per question)."""
    from opencompass.tasks.infer import render_prompts
    from opencompass.utils.build import build_dataset
    from opencompass.utils.config import find_named_configs, normalize_types
    cfgs = normalize_types(find_named_configs('datasets', [dataset]))
    cfg = next(c for c in cfgs if not only or c['abbr'] == only)
    cfg.setdefault('reader_cfg', {})['test_range'] = f'[0:{n}]'
    ds = build_dataset(cfg)
    prompts, _ = render_prompts(cfg, ds)
    groups, golds = [], []
    for prompt, gold in zip(prompts, ds.references()):
        labels = list(prompt)
        groups.append([model.to_text(prompt[label]) for label in labels])
        golds.append([str(label) for label in labels].index(str(gold)))
    return groups, golds, cfg['abbr']


def plain(hf, groups):
    """The baseline: every option text alone, one forward pass each."""
    import torch
    out = []
    for texts in groups:
        scores = []
        for text in texts:
            ids = torch.tensor([hf.encode(text)])
            with torch.inference_mode():
                logits = hf.model(input_ids=ids).logits[0, :-1].float()
            nll = torch.nn.functional.cross_entropy(logits, ids[0, 1:])
            scores.append(float(nll))
        out.append(scores)
    return out


def dense(hf, groups):
    return [hf.get_ppl(texts, mask_length=[0] * len(texts)) for texts in groups]


def project(hf, groups, batch_size):
    out = []
    for s in range(0, len(groups), batch_size):
        out.extend(hf.get_ppl_groups(groups[s:s + batch_size]))
    return out


def argmin(row):
    return min(range(len(row)), key=row.__getitem__)


def main():
    p = argparse.ArgumentParser(description=__doc__.split('\n')[0])
    p.add_argument('--model', default='embedded://smollm2-135m-instruct')
    p.add_argument('--dataset', default='ARC_c_ppl',
                   help='a dataset config name (PPL templates)')
    p.add_argument('--only', help='the abbr of one dataset of that config')
    p.add_argument('--n', type=int, default=200, help='questions')
    p.add_argument('--batch-size', type=int, default=8,
                   help='questions per get_ppl_groups call')
    p.add_argument('--chunk', type=int, default=25,
                   help='questions per interleaved round')
    args = p.parse_args()
    os.environ.setdefault('COMPASS_DATA_CACHE', os.path.abspath(DEFAULT_CACHE))
    import torch
    torch.manual_seed(0)
    from opencompass.models.huggingface import HuggingFaceBaseModel
    hf = HuggingFaceBaseModel(args.model)
    groups, golds, abbr = load_questions(args.dataset, args.only, args.n, hf)
    methods = {'plain': lambda g: plain(hf, g), 'dense': lambda g: dense(hf, g),
               'project': lambda g: project(hf, g, args.batch_size)}
    seconds = dict.fromkeys(methods, 0.0)
    scores = {m: [] for m in methods}
    project(hf, groups[:2], args.batch_size)  # warm-up
    for s in range(0, len(groups), args.chunk):
        chunk = groups[s:s + args.chunk]
        for name, fn in methods.items():
            start = time.perf_counter()
            scores[name].extend(fn(chunk))
            seconds[name] += time.perf_counter() - start
    n_options = sum(map(len, groups))
    tokens = sum(len(hf.encode(t)) for g in groups for t in g)
    print(f'{abbr}: {len(groups)} questions, {n_options} options, {tokens} '
          f'tokens, model {args.model}, torch threads {torch.get_num_threads()}')
    ref = [argmin(r) for r in scores['plain']]
    for name in methods:
        preds = [argmin(r) for r in scores[name]]
        acc = 100 * sum(p == g for p, g in zip(preds, golds)) / len(golds)
        agree = sum(p == r for p, r in zip(preds, ref))
        print(f'{name:8s} {seconds[name]:8.2f} s  {n_options / seconds[name]:7.1f} '
              f'options/s  x{seconds["plain"] / seconds[name]:5.2f} vs plain  '
              f'accuracy {acc:5.1f}  agrees with plain {agree}/{len(ref)}')


if __name__ == '__main__':
    main()
