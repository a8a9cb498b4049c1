"""The summary table of a run, printed and saved as summary_<stamp>.{txt,csv,md}."""
import csv
import json
import os

from opencompass.utils.build import dataset_abbr, model_abbr
from opencompass.utils.config import config_hash

# judge counts (GenericLLMEvaluator, CascadeEvaluator) are not metrics: the
# unparsed verdicts get a column of their own.
_NOT_METRICS = {'num_samples', 'failed', 'details', 'error', 'judged',
                'unparsed', 'judge_failed'}


def _metrics(result):
    return [k for k, v in result.items()
            if k not in _NOT_METRICS and isinstance(v, (int, float))]


def _mode(dataset_cfg):
    inferencer = ((dataset_cfg.get('infer_cfg') or {}).get('inferencer') or {})
    name = str(inferencer.get('type', ''))
    return 'ppl' if 'PPL' in name else 'gen'


def build_table(models, datasets, layout, summarizer=None):
    """(header, rows) from the results files of a run: one row per dataset and
    metric, then one per summary group (see groups.py)."""
    from opencompass.summarizers.groups import group_scores, groups_of
    abbrs = [model_abbr(m) for m in models]
    header = ['dataset', 'version', 'metric', 'mode', *abbrs]
    rows, failures, scores, counts, modes = [], [], {}, {}, {}
    unparsed = []  # per row: unparsed judge verdicts ('-' when not judged)
    for d in datasets:
        d_abbr = dataset_abbr(d)
        results = {}
        for a in abbrs:
            path = layout.results(a, d_abbr)
            if os.path.exists(path):
                with open(path, encoding='utf-8') as f:
                    results[a] = json.load(f)
        metrics = next((_metrics(r) for r in results.values() if _metrics(r)),
                       ['accuracy'])
        failed = ', '.join(f'{a}: {r["failed"]}' for a, r in results.items()
                           if r.get('failed'))
        for metric in metrics:
            cells = [_fmt(results.get(a, {}).get(metric)) for a in abbrs]
            rows.append([d_abbr, config_hash(d.get('infer_cfg', {})), metric,
                         _mode(d), *cells])
            failures.append(failed or '0')
            unparsed.append(_unparsed(results))
        scores[d_abbr] = {a: r[metrics[0]] for a, r in results.items()
                          if isinstance(r.get(metrics[0]), (int, float))}
        counts[d_abbr] = {a: r.get('num_samples', 0) for a, r in results.items()}
        modes[d_abbr] = _mode(d)
    for name, metric, values, subsets in group_scores(
            groups_of(summarizer), scores, abbrs, counts):
        found = {modes[s] for s in subsets}
        modes[name] = found.pop() if len(found) == 1 else 'mixed'
        rows.append([name, '-', metric, modes[name],
                     *[_fmt(values.get(a)) for a in abbrs]])
        failures.append('0')
        unparsed.append('-')
    if any(f != '0' for f in failures):
        header.append('failed')
        rows = [row + [f] for row, f in zip(rows, failures)]
    if any(u != '-' for u in unparsed):
        header.append('unparsed verdicts')
        rows = [row + [u] for row, u in zip(rows, unparsed)]
    return header, rows


def _unparsed(results):
    """'0', or 'model: n, ...' for the judged results; '-' if none is."""
    judged = {a: r for a, r in results.items() if 'unparsed' in r}
    if not judged:
        return '-'
    return ', '.join(f'{a}: {r["unparsed"]}' for a, r in judged.items()
                     if r['unparsed']) or '0'


def _fmt(value):
    return '-' if value is None else f'{value:.2f}'


def summarize(models, datasets, layout, summarizer=None):
    """Write the summary files and return the text table. `summarizer` is the
    config's summarizer dict (its summary_groups); None uses the built-in
    groups."""
    from tabulate import tabulate
    header, rows = build_table(models, datasets, layout, summarizer)
    text = tabulate(rows, headers=header, tablefmt='simple', stralign='left',
                    disable_numparse=True)
    os.makedirs(layout.summary, exist_ok=True)
    base = os.path.join(layout.summary, f'summary_{layout.stamp}')
    with open(base + '.txt', 'w', encoding='utf-8') as f:
        f.write(text + '\n')
    with open(base + '.md', 'w', encoding='utf-8') as f:
        f.write(tabulate(rows, headers=header, tablefmt='github',
                         disable_numparse=True) + '\n')
    with open(base + '.csv', 'w', encoding='utf-8', newline='') as f:
        csv.writer(f).writerows([header, *rows])
    return text
