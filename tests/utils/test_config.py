"""Config loading, --models/--datasets by name, --hf-path, overrides, types."""
import argparse

import pytest

from opencompass.cli.main import apply_overrides, build_parser
from opencompass.errors import ConfigError, UnknownNameError
from opencompass.utils.config import (config_hash, find_named_configs,
                                      hf_model_from_args, load_config,
                                      normalize_types)


def test_load_demo_config_with_read_base(repo_root):
    cfg = load_config(str(repo_root / 'configs' / 'eval_demo.py'))
    assert cfg.models[0]['abbr'] == 'smollm2-135m-instruct-hf'
    assert cfg.datasets[0]['abbr'] == 'demo-math'


def test_missing_and_malformed_configs(tmp_path):
    with pytest.raises(ConfigError, match='does not exist'):
        load_config(str(tmp_path / 'nope.py'))
    bad = tmp_path / 'bad.py'
    bad.write_text('models = [dict(type=\n')
    with pytest.raises(ConfigError, match='cannot be read'):
        load_config(str(bad))


def test_named_configs_and_close_matches(monkeypatch, repo_root):
    monkeypatch.chdir(repo_root)
    models = find_named_configs('models', ['hf_smollm2_135m_instruct'])
    assert models[0]['path'] == 'embedded://smollm2-135m-instruct'
    datasets = find_named_configs('datasets', ['gsm8k_gen', 'demo_math_gen.py'])
    assert [d['abbr'] for d in datasets] == ['gsm8k', 'demo-math']
    with pytest.raises(UnknownNameError, match='hf_smollm2_135m_instruct'):
        find_named_configs('models', ['hf_smollm2_135m_instrct'])


def test_hf_path_builds_a_model_dict():
    args = build_parser().parse_args(['--hf-path', '/models/qwen', '--hf-type',
                                      'base', '--max-out-len', '32'])
    m = hf_model_from_args(args)
    assert m['type'] == 'HuggingFaceBaseModel' and m['abbr'] == 'qwen-hf'
    assert m['max_out_len'] == 32 and m['batch_size'] == 8


def test_normalize_types_gives_registered_names():
    from opencompass.datasets import Gsm8kEvaluator, gsm8k_postprocess
    from opencompass.models import HuggingFace, HuggingFacewithChatTemplate
    out = normalize_types([dict(type=HuggingFacewithChatTemplate,
                                cfg=dict(type=gsm8k_postprocess)),
                           dict(type=HuggingFace), dict(type=Gsm8kEvaluator)])
    assert out == [dict(type='HuggingFacewithChatTemplate',
                        cfg=dict(type='gsm8k_postprocess')),
                   dict(type='HuggingFaceBaseModel'), dict(type='Gsm8kEvaluator')]
    assert config_hash(out) == config_hash(normalize_types(out))


def test_cli_overrides_win():
    args = argparse.Namespace(max_out_len=16, batch_size=2, test_range='[0:3]')
    models = [dict(max_out_len=256, batch_size=8)]
    datasets = [dict(reader_cfg={}, infer_cfg=dict(inferencer=dict(max_out_len=64)))]
    apply_overrides(models, datasets, args)
    assert models == [dict(max_out_len=16, batch_size=2)]
    assert datasets[0]['infer_cfg']['inferencer']['max_out_len'] == 16
    assert datasets[0]['reader_cfg']['test_range'] == '[0:3]'
