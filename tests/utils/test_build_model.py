"""Model dicts written for upstream OpenCompass build here: extra arguments are
used where they mean something, else dropped with one warning; never a
TypeError."""
import logging

import pytest

from opencompass.errors import ConfigError, UnknownNameError
from opencompass.utils.build import build_model, model_kwargs


class Narrow:
    def __init__(self, path, generation_kwargs=None, retry=2, max_out_len=16):
        self.path, self.generation_kwargs, self.retry = path, generation_kwargs, retry
        self.max_out_len = max_out_len


class LMDeployLike:
    def __init__(self, path, gen_config=None):
        self.gen_config = gen_config


def test_sampling_args_go_to_the_sampling_dict_and_others_warn(caplog):
    cfg = dict(type=Narrow, abbr='m', path='p', temperature=0.3, retry=5,
               rpm_verbose=True, verbose=True, openai_proxy_url='x',
               generation_kwargs=dict(top_p=0.9), batch_size=4, max_out_len=8,
               run_cfg=dict(num_gpus=1))
    with caplog.at_level(logging.WARNING):
        model = build_model(cfg)
    assert model.generation_kwargs == {'temperature': 0.3, 'top_p': 0.9}
    assert model.retry == 5 and model.max_out_len == 8
    warnings = [r.getMessage() for r in caplog.records]
    assert warnings == ['Narrow does not use openai_proxy_url, rpm_verbose, '
                        'verbose (accepted for OpenCompass config '
                        'compatibility, no effect here)']
    assert model_kwargs(LMDeployLike, dict(path='p', temperature=0.5,
                                           concurrency=8)) == dict(
        path='p', gen_config={'temperature': 0.5})


def test_the_sampling_dict_wins_over_a_top_level_value():
    kwargs = model_kwargs(Narrow, dict(path='p', temperature=1.0,
                                       generation_kwargs=dict(temperature=0)))
    assert kwargs['generation_kwargs'] == {'temperature': 0}


def test_missing_required_argument_is_one_line():
    with pytest.raises(ConfigError, match=r'model m \(Narrow\) needs path='):
        build_model(dict(type=Narrow, abbr='m'))


def test_upstream_openai_sdk_dict_builds():
    cfg = dict(type='OpenAISDK', abbr='gpt', path='gpt-4o', key='sk-test',
               openai_api_base='http://127.0.0.1:9/v1', query_per_second=2,
               rpm_verbose=True, retry=4, temperature=0.7, tokenizer_path=None,
               max_completion_tokens=1024, verbose=True, max_seq_len=4096,
               meta_template=None, batch_size=8, max_out_len=64)
    model = build_model(cfg)
    assert model.retry == 4 and model.query_per_second == 2
    assert model.generation_kwargs['temperature'] == 0.7


def test_unsupported_model_type_is_one_line():
    with pytest.raises(UnknownNameError, match="unknown model type 'Gemini'"):
        build_model(dict(type='Gemini', path='gemini-pro'))


def test_upstream_engine_arguments_are_accepted():
    from opencompass.models.turbomind import TurboMindModel
    from opencompass.models.vllm import VLLM
    kwargs = model_kwargs(TurboMindModel, dict(
        path='p', concurrency=16, drop_middle=False, temperature=0.1,
        gen_config=dict(top_k=1)))
    assert kwargs == dict(path='p', gen_config={'temperature': 0.1, 'top_k': 1})
    kwargs = model_kwargs(VLLM, dict(path='p', mode='none', temperature=0,
                                     use_fastchat_template=False))
    assert kwargs == dict(path='p', generation_kwargs={'temperature': 0})
