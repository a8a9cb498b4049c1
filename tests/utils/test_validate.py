"""The validation pass: every field the framework reads, checked before any
work, with one message naming its place."""
import argparse

import pytest

from opencompass.errors import ConfigError
from opencompass.utils.validate import validate_cli, validate_run

GOOD_MODEL = dict(type='HuggingFacewithChatTemplate', abbr='m', path='p',
                  max_out_len=8, batch_size=2)
GOOD_DATASET = dict(type='DemoMathDataset', abbr='d', reader_cfg=dict(
    input_columns=['question'], output_column='answer', test_range='[0:5]'),
    infer_cfg=dict(inferencer=dict(type='GenInferencer', max_out_len=8)))


def _with(base, **fields):
    return {**base, **fields}


BAD_MODELS = [
    (_with(GOOD_MODEL, batch_size='x'),
     "models[0].batch_size: expected a positive integer, got 'x'"),
    (_with(GOOD_MODEL, batch_size=0), 'models[0].batch_size'),
    (_with(GOOD_MODEL, batch_size=True), 'models[0].batch_size'),
    (_with(GOOD_MODEL, max_out_len='abc'), 'models[0].max_out_len'),
    (_with(GOOD_MODEL, max_out_len=-5), 'models[0].max_out_len'),
    (_with(GOOD_MODEL, max_seq_len=-1), 'models[0].max_seq_len'),
    (_with(GOOD_MODEL, generation_kwargs='x'), 'models[0].generation_kwargs'),
    (_with(GOOD_MODEL, stop_words=5), 'models[0].stop_words'),
    (_with(GOOD_MODEL, stop_words=['ok', 3]), 'models[0].stop_words'),
    (_with(GOOD_MODEL, model_kwargs=[1]), 'models[0].model_kwargs'),
    (_with(GOOD_MODEL, abbr={'a': 1}), 'models[0].abbr'),
    (_with(GOOD_MODEL, abbr=''), 'models[0].abbr'),
    (_with(GOOD_MODEL, key='clé-non-ascii'), 'models[0].key'),
    (_with(GOOD_MODEL, openai_api_base='127.0.0.1:8000'),
     'models[0].openai_api_base'),
    (_with(GOOD_MODEL, run_cfg=dict(num_gpus=-1)), 'models[0].run_cfg.num_gpus'),
    ({k: v for k, v in GOOD_MODEL.items() if k != 'type'}, 'models[0] has no type'),
    ('HuggingFacewithChatTemplate', 'models[0]: expected a dict'),
]


@pytest.mark.parametrize('model, message', BAD_MODELS)
def test_bad_model_fields(model, message):
    with pytest.raises(ConfigError, match=message.replace('[', r'\[').replace(
            ']', r'\]')):
        validate_run([model], [GOOD_DATASET])


BAD_DATASETS = [
    ({k: v for k, v in GOOD_DATASET.items() if k != 'type'},
     'datasets[0] has no type'),
    (_with(GOOD_DATASET, reader_cfg=dict(test_range='0:5')),
     'datasets[0].reader_cfg.test_range'),
    (_with(GOOD_DATASET, reader_cfg='x'), 'datasets[0].reader_cfg'),
    (_with(GOOD_DATASET, infer_cfg=dict(inferencer=dict(
        type='GenInferencer', max_out_len=0))),
     'datasets[0].infer_cfg.inferencer.max_out_len'),
    (_with(GOOD_DATASET, infer_cfg=dict(inferencer=dict(max_out_len=5))),
     'datasets[0].infer_cfg.inferencer has no type'),
]


@pytest.mark.parametrize('dataset, message', BAD_DATASETS)
def test_bad_dataset_fields(dataset, message):
    with pytest.raises(ConfigError, match=message.replace('[', r'\[').replace(
            ']', r'\]')):
        validate_run([GOOD_MODEL], [dataset])


def test_duplicate_abbrs_are_an_error():
    with pytest.raises(ConfigError, match="abbr 'm' is used twice"):
        validate_run([GOOD_MODEL, dict(GOOD_MODEL)], [GOOD_DATASET])
    with pytest.raises(ConfigError, match="abbr 'd' is used twice"):
        validate_run([GOOD_MODEL], [GOOD_DATASET, dict(GOOD_DATASET)])


def test_good_run_passes():
    models = [GOOD_MODEL, _with(GOOD_MODEL, abbr='m2', key=['k1', 'k2'],
                                openai_api_base=['http://h:1/v1'])]
    assert validate_run(models, [GOOD_DATASET]) is None  # no ConfigError


@pytest.mark.parametrize('flag, value', [
    ('max_out_len', -3), ('batch_size', 0), ('max_num_workers', 0),
    ('max_seq_len', -1), ('test_range', '0:5'), ('api_key', 'clé'),
    ('api_base', 'localhost:8000')])
def test_bad_cli_values(flag, value):
    args = argparse.Namespace(**{flag: value})
    with pytest.raises(ConfigError, match='--' + flag.replace('_', '-')):
        validate_cli(args)
