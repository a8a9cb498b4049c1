"""Backends side by side (`-a hf,openai`): score, speed and agreement per backend.

The first backend is the reference. For each model and dataset this writes
summary/backend_comparison.{md,csv}, the samples where a backend's extracted
answer differs from the reference's in summary/backend_disagreements.jsonl, and a
chart of time and score per backend in summary/backend_comparison.png.
"""
import csv
import json
import os

from opencompass.tasks.predictions import sum_stats
from opencompass.utils.build import dataset_abbr, model_abbr

HEADER = ['model', 'dataset', 'backend', 'score', 'infer time (s)', 'samples/s',
          'out tok/s', 'speedup', 'same answer %', 'identical text %']


def _load(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding='utf-8') as f:
        return json.load(f)


def _metric(result):
    for key, value in result.items():
        if key not in ('num_samples', 'failed') and isinstance(value, (int, float)):
            return value
    return None


class _Side:
    """One backend's results, stats and per-sample answers for a pair."""

    def __init__(self, backend, model_cfg, dataset_cfg, layout):
        self.backend = backend
        m, d = model_abbr(model_cfg), dataset_abbr(dataset_cfg)
        self.result = _load(layout.results(m, d)) or {}
        self.stats = sum_stats(layout.pair_files(m, d, '.stats.json'))
        details = self.result.get('details') or []
        self.texts = [x.get('prediction', '') for x in details]
        self.answers = [str(x.get('pred', x.get('prediction', ''))) for x in details]
        self.score = _metric(self.result)
        self.seconds = self.stats.get('seconds')

    def rate(self, key):
        if not self.seconds:
            return None
        return self.stats.get(key, 0) / self.seconds


def _share(a, b):
    pairs = list(zip(a, b))
    return 100.0 * sum(x == y for x, y in pairs) / len(pairs) if pairs else None


def compare(backends, converted, datasets, layout):
    """Rows of the comparison and the disagreements, from a finished run.
    `converted[k]` is the model list as converted for `backends[k]`."""
    rows, disagreements = [], []
    for i in range(len(converted[0])):
        for d in datasets:
            sides = [_Side(b, converted[k][i], d, layout)
                     for k, b in enumerate(backends)]
            ref = sides[0]
            for side in sides:
                rows.append(_row(model_abbr(converted[0][i]), dataset_abbr(d),
                                 side, ref))
            disagreements.extend(_disagreements(model_abbr(converted[0][i]), d,
                                                sides, layout))
    return rows, disagreements


def _row(model, dataset, side, ref):
    speedup = (ref.seconds / side.seconds
               if ref.seconds and side.seconds else None)
    return [model, dataset, side.backend, side.score, side.seconds,
            side.rate('samples'), side.rate('out_tokens'), speedup,
            _share(ref.answers, side.answers), _share(ref.texts, side.texts)]


def _disagreements(model, dataset_cfg, sides, layout):
    from opencompass.utils.build import build_dataset
    ref = sides[0]
    differing = sorted({i for s in sides[1:] for i in range(min(len(ref.answers),
                                                                len(s.answers)))
                        if s.answers[i] != ref.answers[i]})
    if not differing:
        return []
    ds = build_dataset(dataset_cfg)
    cols = ds.input_columns
    out = []
    for i in differing:
        row = ds.test[i] if i < len(ds.test) else {}
        details = ref.result['details'][i]
        out.append({
            'model': model, 'dataset': dataset_abbr(dataset_cfg), 'idx': i,
            'question': ' '.join(str(row.get(c, '')) for c in cols),
            'reference': details.get('answer'),
            'answers': {s.backend: s.answers[i] for s in sides},
            'outputs': {s.backend: s.texts[i] for s in sides}})
    return out


def _fmt(value, digits=2):
    if value is None:
        return '-'
    if isinstance(value, float):
        return f'{value:.{digits}f}'
    return str(value)


def write_comparison(backends, converted, datasets, layout, show=3):
    """Write the comparison files; return the text to print (table last)."""
    from tabulate import tabulate
    rows, disagreements = compare(backends, converted, datasets, layout)
    cells = [[_fmt(v) for v in row] for row in rows]
    os.makedirs(layout.summary, exist_ok=True)
    base = os.path.join(layout.summary, 'backend_comparison')
    with open(base + '.md', 'w', encoding='utf-8') as f:
        f.write(tabulate(cells, HEADER, tablefmt='github',
                         disable_numparse=True) + '\n')
    with open(base + '.csv', 'w', encoding='utf-8', newline='') as f:
        csv.writer(f).writerows([HEADER, *rows])
    with open(os.path.join(layout.summary, 'backend_disagreements.jsonl'), 'w',
              encoding='utf-8') as f:
        for item in disagreements:
            f.write(json.dumps(item, ensure_ascii=False) + '\n')
    _chart(rows, base + '.png')
    lines = [f'{len(disagreements)} sample(s) where a backend\'s answer differs '
             f'from {backends[0]} (summary/backend_disagreements.jsonl)']
    for item in disagreements[:show]:
        lines.append(f"  [{item['dataset']} #{item['idx']}] "
                     f"{item['question'][:80]!r} -> " + ', '.join(
                         f'{b}: {a!r}' for b, a in item['answers'].items()))
    lines += ['', 'backend comparison (reference: ' + backends[0] + ')',
              tabulate(cells, HEADER, tablefmt='simple', disable_numparse=True)]
    return '\n'.join(lines)


def _chart(rows, path):
    """Time and score per backend, one bar group per model/dataset pair."""
    import matplotlib
    matplotlib.use('Agg')
    import matplotlib.pyplot as plt
    pairs = list(dict.fromkeys((r[0], r[1]) for r in rows))
    backends = list(dict.fromkeys(r[2] for r in rows))
    fig, axes = plt.subplots(1, 2, figsize=(10, 4))
    width = 0.8 / max(1, len(backends))
    for k, backend in enumerate(backends):
        got = {(r[0], r[1]): r for r in rows if r[2] == backend}
        xs = [j + k * width for j in range(len(pairs))]
        for ax, col in ((axes[0], 4), (axes[1], 3)):
            bars = ax.bar(xs, [got[p][col] or 0 for p in pairs], width,
                          label=backend)
            ax.bar_label(bars, fmt='%.1f', fontsize=8)
    for ax, title in ((axes[0], 'inference time (s), lower is better'),
                      (axes[1], 'score, higher is better')):
        ax.set_title(title)
        ax.set_xticks([j + width * (len(backends) - 1) / 2
                       for j in range(len(pairs))])
        ax.set_xticklabels([f'{m}\n{d}' for m, d in pairs], fontsize=8)
        ax.legend()
        ax.set_ylim(0, max(1.0, ax.get_ylim()[1]) * 1.15)
    fig.tight_layout()
    fig.savefig(path, dpi=100)
    plt.close(fig)
