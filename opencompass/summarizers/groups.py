"""Summary groups: one row that averages a benchmark's subsets (MMLU's 57
subjects, C-Eval's 52), shown after the subsets in the summary table.

A group is `{'name': 'mmlu', 'subsets': [abbr, ...]}`, optionally with
`'weights': {abbr: weight}` (then the row is a weighted average, e.g. by the
number of test questions per subject) or `'weights': 'num_samples'` (weighted
by the samples each subset scored in this run). Subsets may be other groups (computed
first, in order). A group row appears only when every subset has a score for a
model, so a partial run never passes for the full benchmark.

Groups come from the config's `summarizer = dict(summary_groups=[...])`, as in
OpenCompass; without one, the groups shipped in
opencompass/configs/summarizers/groups/ apply wherever their subsets were run.
"""
import glob
import os
import runpy


def builtin_groups():
    """Every `*_summary_groups` list of opencompass/configs/summarizers/groups."""
    from opencompass.utils.config import package_configs
    groups = []
    folder = os.path.join(package_configs(), 'summarizers', 'groups')
    for path in sorted(glob.glob(os.path.join(folder, '*.py'))):
        for key, value in runpy.run_path(path).items():
            if key.endswith('_summary_groups') and isinstance(value, list):
                groups.extend(value)
    return groups


def groups_of(summarizer):
    """The summary groups of a config's `summarizer` dict (None: built-in)."""
    if summarizer and summarizer.get('summary_groups') is not None:
        return list(summarizer['summary_groups'])
    return builtin_groups()


def _average(values, weights=None):
    if weights is None:
        return sum(values) / len(values)
    total = sum(weights)
    return sum(v * w for v, w in zip(values, weights)) / total if total else None


def group_scores(groups, scores, models, counts=None):
    """[(name, metric, {model: value}, subsets)] for the groups whose subsets
    all have scores; `scores[abbr][model]` holds each dataset's main metric and
    `counts[abbr][model]` its number of samples; both are extended with the
    group results (so groups can nest)."""
    counts = {} if counts is None else counts
    rows = []
    for group in groups:
        subsets = [s if isinstance(s, str) else s[0] for s in group['subsets']]
        if not subsets or not all(s in scores for s in subsets):
            continue
        weights = group.get('weights')
        metric = 'weighted_average' if weights else 'naive_average'
        values = {}
        for model in models:
            got = [scores[s].get(model) for s in subsets]
            if any(v is None for v in got):
                continue
            if weights == 'num_samples':
                w = [counts.get(s, {}).get(model, 0) for s in subsets]
            else:
                w = [weights.get(s, 0) for s in subsets] if weights else None
            values[model] = _average(got, w)
        if values:
            scores[group['name']] = values
            counts[group['name']] = {
                m: sum(counts.get(s, {}).get(m, 0) for s in subsets)
                for m in values}
            rows.append((group['name'], metric, values, subsets))
    return rows
