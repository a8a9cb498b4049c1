"""Summary groups: naive and weighted averages over subsets, after the subsets
in the summary table; built-in MMLU groups; partial runs show no group row."""
import json
import os

import pytest

from opencompass.summarizers.default import build_table
from opencompass.summarizers.groups import builtin_groups, group_scores
from opencompass.tasks.layout import RunLayout


def test_naive_weighted_and_nested_groups():
    scores = {'a': {'m': 50.0, 'n': 10.0}, 'b': {'m': 100.0, 'n': 30.0},
              'c': {'m': 0.0}}
    groups = [{'name': 'ab', 'subsets': ['a', 'b']},
              {'name': 'ab-weighted', 'subsets': ['a', 'b'],
               'weights': {'a': 3, 'b': 1}},
              {'name': 'abc', 'subsets': ['ab', 'c']},
              {'name': 'missing', 'subsets': ['a', 'zzz']}]
    rows = group_scores(groups, scores, ['m', 'n'])
    assert [(r[0], r[1]) for r in rows] == [
        ('ab', 'naive_average'), ('ab-weighted', 'weighted_average'),
        ('abc', 'naive_average')]
    assert rows[0][2] == {'m': 75.0, 'n': 20.0}
    assert rows[1][2] == {'m': 62.5, 'n': 15.0}
    assert rows[2][2] == {'m': 37.5}  # n has no score for c: no cell


def test_builtin_mmlu_groups():
    groups = {g['name']: g for g in builtin_groups()}
    assert len(groups['mmlu']['subsets']) == 57
    weights = groups['mmlu-weighted']['weights']
    assert sum(weights.values()) == 14042 and weights[
        'lukaemon_mmlu_professional_law'] == 1534
    parts = sum(len(groups[f'mmlu-{c}']['subsets']) for c in (
        'humanities', 'stem', 'social-science', 'other'))
    assert parts == 57


def _results(layout, model, abbr, accuracy, n=4):
    path = layout.results(model, abbr)
    os.makedirs(os.path.dirname(path), exist_ok=True)
    with open(path, 'w') as f:
        json.dump({'accuracy': accuracy, 'num_samples': n, 'failed': 0}, f)


def test_table_shows_group_rows_after_the_subsets(tmp_path):
    layout = RunLayout(str(tmp_path / 'run'))
    models = [{'abbr': 'm1'}]
    datasets = [{'abbr': a, 'infer_cfg': {'inferencer': {'type': 'PPLInferencer'}}}
                for a in ('x-1', 'x-2')]
    _results(layout, 'm1', 'x-1', 40.0)
    _results(layout, 'm1', 'x-2', 60.0)
    summarizer = {'summary_groups': [
        {'name': 'x', 'subsets': ['x-1', 'x-2']},
        {'name': 'x-weighted', 'subsets': ['x-1', 'x-2'],
         'weights': {'x-1': 1, 'x-2': 3}}]}
    header, rows = build_table(models, datasets, layout, summarizer)
    assert [r[0] for r in rows] == ['x-1', 'x-2', 'x', 'x-weighted']
    assert rows[2][2:] == ['naive_average', 'ppl', '50.00']
    assert rows[3][2:] == ['weighted_average', 'ppl', '55.00']
    # Without a summarizer the built-in groups apply, and none covers x-*.
    assert [r[0] for r in build_table(models, datasets, layout)[1]] == [
        'x-1', 'x-2']


@pytest.mark.parametrize('present', [57, 10])
def test_builtin_mmlu_row_only_for_a_full_run(tmp_path, present):
    layout = RunLayout(str(tmp_path / 'run'))
    subsets = next(g for g in builtin_groups() if g['name'] == 'mmlu')['subsets']
    datasets = [{'abbr': a} for a in subsets[:present]]
    for d in datasets:
        _results(layout, 'm1', d['abbr'], 25.0)
    names = [r[0] for r in build_table([{'abbr': 'm1'}], datasets, layout)[1]]
    assert ('mmlu' in names) == (present == 57)
    if present == 57:
        assert names[-6:] == ['mmlu-humanities', 'mmlu-stem',
                              'mmlu-social-science', 'mmlu-other', 'mmlu',
                              'mmlu-weighted']
