"""-r resumes only a run of the same config, and says what differs."""
import os

import pytest

from opencompass.errors import ConfigError
from opencompass.tasks.layout import RunLayout
from opencompass.tasks.run_identity import find_resumable, identity, save_identity

MODEL = dict(type='HuggingFacewithChatTemplate', abbr='m', path='p',
             max_out_len=64, batch_size=8, key='sk-abcdefghijkl')
DATASET = dict(type='DemoMathDataset', abbr='d', reader_cfg=dict(
    input_columns=['question'], output_column='answer'),
    infer_cfg=dict(inferencer=dict(type='GenInferencer', max_out_len=64)),
    eval_cfg=dict(evaluator=dict(type='Gsm8kEvaluator')))


def _run(work, stamp, models=(MODEL,), datasets=(DATASET,)):
    layout = RunLayout(str(work / stamp))
    os.makedirs(layout.root)
    save_identity(layout, identity(list(models), list(datasets)))
    return layout


def test_named_run_with_another_max_out_len_is_refused(tmp_path):
    _run(tmp_path, '20260101_000000')
    changed = dict(MODEL, max_out_len=128)
    with pytest.raises(ConfigError) as err:
        find_resumable(str(tmp_path), '20260101_000000',
                       identity([changed], [DATASET]))
    assert "models['m'].max_out_len: 64 in the run, 128 now" in str(err.value)


def test_settings_that_do_not_change_predictions_are_allowed(tmp_path):
    layout = _run(tmp_path, '20260101_000000')
    same = dict(MODEL, batch_size=1, key='other-key-123', run_cfg=dict(num_gpus=2))
    rescored = dict(DATASET, eval_cfg=dict(evaluator=dict(type='AccEvaluator')))
    found = find_resumable(str(tmp_path), '20260101_000000',
                           identity([same], [rescored]))
    assert found.root == layout.root


def test_latest_means_newest_run_of_the_same_config(tmp_path):
    old = _run(tmp_path, '20260101_000000')
    _run(tmp_path, '20260102_000000', models=[dict(MODEL, max_out_len=9)])
    os.makedirs(tmp_path / '20260103_000000')  # a stub that died at once
    _run(tmp_path, '20260104_000000', models=[dict(MODEL, abbr='other')])
    found = find_resumable(str(tmp_path), None, identity([MODEL], [DATASET]))
    assert found.root == old.root


def test_latest_with_only_differing_runs_names_the_difference(tmp_path):
    _run(tmp_path, '20260101_000000')
    prompt = dict(DATASET, reader_cfg=dict(DATASET['reader_cfg'],
                                           test_range='[0:5]'))
    with pytest.raises(ConfigError, match=r"reader_cfg.test_range: unset in the "
                       r"run, \"\[0:5\]\" now"):
        find_resumable(str(tmp_path), None, identity([MODEL], [prompt]))


def test_nothing_to_resume(tmp_path):
    assert find_resumable(str(tmp_path / 'none'), None,
                          identity([MODEL], [DATASET])) is None
    os.makedirs(tmp_path / 'w' / '20260101_000000')
    assert find_resumable(str(tmp_path / 'w'), None,
                          identity([MODEL], [DATASET])) is None
    with pytest.raises(ConfigError, match='no record of its config'):
        find_resumable(str(tmp_path / 'w'), '20260101_000000',
                       identity([MODEL], [DATASET]))


def test_added_models_extend_the_run(tmp_path):
    layout = _run(tmp_path, '20260101_000000')
    more = identity([MODEL, dict(MODEL, abbr='m2')], [DATASET])
    assert find_resumable(str(tmp_path), None, more).root == layout.root
    save_identity(layout, more)
    with pytest.raises(ConfigError, match="models\\['m2'\\].path"):
        find_resumable(str(tmp_path), None,
                       identity([dict(MODEL, abbr='m2', path='q')], [DATASET]))


def test_identity_holds_no_secret(tmp_path):
    layout = _run(tmp_path, '20260101_000000')
    text = open(os.path.join(layout.configs, 'identity.json')).read()
    assert 'sk-abcdefghijkl' not in text
