"""Multiple choice end to end on the embedded model, through the CLI, on sample
files in the OpenCompass layout: ARC and MMLU by perplexity and by generation,
an upstream-style config from a folder outside the repo, summary group rows,
and -r."""
import json
import os

import pytest

from tests.datasets.mc_samples import (write_arc, write_ceval, write_hellaswag,
                                       write_mmlu)

pytestmark = pytest.mark.slow

CONFIG = '''
from mmengine.config import read_base

with read_base():
    from opencompass.configs.datasets.ARC_c.ARC_c_ppl import ARC_c_datasets
    from opencompass.configs.datasets.ARC_e.ARC_e_gen import ARC_e_datasets
    from opencompass.configs.datasets.mmlu.mmlu_ppl import mmlu_datasets
    from opencompass.configs.datasets.mmlu.mmlu_gen_4d595a import \\
        mmlu_datasets as mmlu_gen_datasets
    from opencompass.configs.models.hf_smollm2.hf_smollm2_135m import models

_subjects = ('anatomy', 'astronomy')
_ppl = [d for d in mmlu_datasets if d['name'] in _subjects]
_gen = [dict(d, abbr=d['abbr'] + '-gen') for d in mmlu_gen_datasets
        if d['name'] in _subjects]
datasets = [*ARC_c_datasets, *ARC_e_datasets, *_ppl, *_gen]
summarizer = dict(summary_groups=[
    {'name': 'mmlu-sample', 'subsets': [d['abbr'] for d in _ppl]},
    {'name': 'mmlu-sample-weighted', 'subsets': [d['abbr'] for d in _ppl],
     'weights': {'lukaemon_mmlu_anatomy': 1, 'lukaemon_mmlu_astronomy': 3}},
])
'''


def _table(stdout):
    rows = {}
    for line in stdout.splitlines():
        parts = line.split()
        if len(parts) == 5 and parts[3] in ('ppl', 'gen', 'mixed'):
            rows[parts[0]] = parts
    return rows


def test_mc_ppl_and_gen_with_groups_and_resume(cli, tmp_path):
    write_arc(tmp_path / 'cache')
    write_mmlu(tmp_path / 'cache')
    config = tmp_path / 'elsewhere' / 'my_eval.py'
    config.parent.mkdir()
    config.write_text(CONFIG)
    env = {'COMPASS_DATA_CACHE': str(tmp_path / 'cache')}
    args = (config, '--test-range', '[0:2]', '--max-out-len', '6', '-w', 'out')
    proc = cli(*args, env=env)
    assert proc.returncode == 0, proc.stderr
    rows = _table(proc.stdout)
    names = list(rows)
    assert names == ['ARC-c', 'ARC-e', 'lukaemon_mmlu_anatomy',
                     'lukaemon_mmlu_astronomy', 'lukaemon_mmlu_anatomy-gen',
                     'lukaemon_mmlu_astronomy-gen', 'mmlu-sample',
                     'mmlu-sample-weighted']
    assert rows['ARC-c'][3] == 'ppl' and rows['ARC-e'][3] == 'gen'
    a, b = (float(rows[f'lukaemon_mmlu_{s}'][4]) for s in ('anatomy',
                                                          'astronomy'))
    assert float(rows['mmlu-sample'][4]) == pytest.approx((a + b) / 2, abs=0.01)
    assert float(rows['mmlu-sample-weighted'][4]) == pytest.approx(
        (a + 3 * b) / 4, abs=0.01)
    run = os.path.join(tmp_path, 'out', sorted(os.listdir(tmp_path / 'out'))[-1])
    preds = os.path.join(run, 'predictions', 'smollm2-135m-hf')
    with open(os.path.join(preds, 'ARC-c.jsonl')) as f:
        arc = [json.loads(line) for line in f]
    assert sorted(p['idx'] for p in arc) == [0, 1]
    assert all(p['prediction'] in 'ABCD' and p['prediction'] for p in arc)
    # -r: everything is predicted already; the same table comes back.
    again = cli(*args, '-r', env=env)
    assert again.returncode == 0, again.stderr
    assert _table(again.stdout) == rows
    assert 'all 2 predictions exist' in again.stderr


CONFIG_HS_CEVAL = '''
from mmengine.config import read_base

with read_base():
    from opencompass.configs.datasets.hellaswag.hellaswag_ppl import \\
        hellaswag_datasets
    from opencompass.configs.datasets.hellaswag.hellaswag_gen import \\
        hellaswag_datasets as hellaswag_gen_datasets
    from opencompass.configs.datasets.ceval.ceval_ppl import ceval_datasets
    from opencompass.configs.datasets.ceval.ceval_gen import \\
        ceval_datasets as ceval_gen_datasets
    from opencompass.configs.models.hf_smollm2.hf_smollm2_135m import models

_subjects = ('computer_network', 'logic')
_gen = [dict(d, abbr=d['abbr'] + '-gen') for d in hellaswag_gen_datasets]
_ceval = [d for d in ceval_datasets if d['name'] in _subjects]
_ceval_gen = [dict(d, abbr=d['abbr'] + '-gen') for d in ceval_gen_datasets
              if d['name'] in _subjects and d['abbr'].startswith('ceval-') and
              not d['abbr'].startswith('ceval-test-')]
datasets = [*hellaswag_datasets, *_gen, *_ceval, *_ceval_gen]
summarizer = dict(summary_groups=[
    {'name': 'ceval-sample', 'subsets': [d['abbr'] for d in _ceval]},
    {'name': 'ceval-sample-weighted', 'subsets': [d['abbr'] for d in _ceval],
     'weights': 'num_samples'},
])
'''


def test_hellaswag_and_ceval_ppl_and_gen(cli, tmp_path):
    write_hellaswag(tmp_path / 'cache')
    write_ceval(tmp_path / 'cache')
    config = tmp_path / 'my_eval.py'
    config.write_text(CONFIG_HS_CEVAL)
    proc = cli(config, '--test-range', '[0:1]', '--max-out-len', '4', '-w',
               'out', env={'COMPASS_DATA_CACHE': str(tmp_path / 'cache')})
    assert proc.returncode == 0, proc.stderr
    rows = _table(proc.stdout)
    assert list(rows) == ['hellaswag', 'hellaswag-gen', 'ceval-computer_network',
                          'ceval-logic', 'ceval-computer_network-gen',
                          'ceval-logic-gen', 'ceval-sample',
                          'ceval-sample-weighted']
    assert [rows[n][3] for n in ('hellaswag', 'hellaswag-gen')] == ['ppl', 'gen']
    a, b = (float(rows[f'ceval-{s}'][4]) for s in ('computer_network', 'logic'))
    assert float(rows['ceval-sample'][4]) == pytest.approx((a + b) / 2, abs=0.01)
    assert float(rows['ceval-sample-weighted'][4]) == pytest.approx(
        (a + b) / 2, abs=0.01)  # 1 sample each
