"""Where a judged dataset's judge comes from (CLI, judge_cfg, judge_models,
$OC_JUDGE_*), and its conversion to the judge's backend by the same rules as
the evaluated models."""
import argparse
import copy
import subprocess
import sys

import pytest

from opencompass.errors import ConfigError
from opencompass.utils.judges import (config_judges, convert_judges,
                                      judge_models, judged_evaluators,
                                      resolve_judges)

HF_JUDGE = dict(type='HuggingFacewithChatTemplate', abbr='judge-hf',
                path='org/judge', max_out_len=32, batch_size=8,
                run_cfg=dict(num_gpus=1))
TEMPLATE = dict(type='PromptTemplate', template='{prediction}')


def _generic(judge_cfg=None):
    return dict(type='GenericLLMEvaluator', prompt_template=TEMPLATE,
                judge_cfg=judge_cfg if judge_cfg is not None else {})


def _dataset(evaluator, abbr='d'):
    return dict(type='MATHDataset', abbr=abbr, path='x',
                eval_cfg=dict(evaluator=evaluator))


def _args(**kw):
    base = dict(judge_hf_path=None, judge_api_base=None, judge_api_model=None,
                judge_api_key=None, judge_max_out_len=None)
    return argparse.Namespace(**{**base, **kw})


@pytest.fixture(autouse=True)
def _no_env_judge(monkeypatch):
    for name in ('OC_JUDGE_MODEL', 'OC_JUDGE_API_BASE', 'OC_JUDGE_API_KEY'):
        monkeypatch.delenv(name, raising=False)


def test_judged_evaluators_are_found_inside_a_cascade():
    cascade = dict(type='CascadeEvaluator', rule_evaluator=dict(
        type='MATHVerifyEvaluator'), llm_evaluator=_generic())
    datasets = [_dataset(cascade), _dataset(dict(type='AccEvaluator'), 'e')]
    assert judged_evaluators(datasets[0]) == [cascade['llm_evaluator']]
    assert judged_evaluators(datasets[1]) == []


def test_precedence_cli_then_judge_cfg_then_judge_models_then_env(monkeypatch):
    own = dict(HF_JUDGE, abbr='own-hf', path='org/own')
    datasets = [_dataset(_generic(own), 'a'), _dataset(_generic(), 'b')]
    cfg = {'judge_models': [HF_JUDGE]}
    out = resolve_judges(datasets, cfg, _args())
    assert [judge_models([d])[0]['abbr'] for d in out] == ['own-hf', 'judge-hf']
    assert datasets[1]['eval_cfg']['evaluator']['judge_cfg'] == {}  # pure
    cli = resolve_judges(datasets, cfg, _args(judge_hf_path='embedded://tiny'))
    assert {j['path'] for j in judge_models(cli)} == {'embedded://tiny'}
    monkeypatch.setenv('OC_JUDGE_MODEL', 'gpt-judge')
    monkeypatch.setenv('OC_JUDGE_API_KEY', 'sk-env-judge-key-0123456789')
    env = resolve_judges([_dataset(_generic())], {}, _args())
    judge = judge_models(env)[0]
    assert judge['type'] == 'OpenAISDK' and judge['path'] == 'gpt-judge'
    assert judge['openai_api_base'] == 'https://api.openai.com/v1'


def test_upstream_eval_partitioner_judge_models():
    cfg = {'eval': {'partitioner': {'judge_models': [HF_JUDGE]}}}
    assert config_judges(cfg) == [HF_JUDGE]
    assert config_judges({'eval': {'judge_models': [HF_JUDGE]}}) == [HF_JUDGE]
    with pytest.raises(ConfigError, match='judge_models'):
        config_judges({'judge_models': ['not a dict']})


def test_no_judge_is_one_error_naming_the_dataset():
    with pytest.raises(ConfigError, match='dataset math-x is scored by an LLM '
                       'judge'):
        resolve_judges([_dataset(_generic(), 'math-x')], {}, _args())


def test_api_judge_from_the_cli():
    out = resolve_judges([_dataset(_generic())], {}, _args(
        judge_api_base='http://127.0.0.1:8001/v1', judge_api_model='qwen',
        judge_max_out_len=64))
    judge = judge_models(out)[0]
    assert judge['type'] == 'OpenAISDK' and judge['path'] == 'qwen'
    assert judge['max_out_len'] == 64 and judge['temperature'] == 0
    with pytest.raises(ConfigError, match='one judge'):
        resolve_judges([], {}, _args(judge_hf_path='x', judge_api_base='y'))


@pytest.mark.parametrize('backend, type_, field, value', [
    ('vllm', 'VLLMwithChatTemplate', 'abbr', 'judge-vllm'),
    ('lmdeploy', 'TurboMindModelwithChatTemplate', 'abbr', 'judge-lmdeploy'),
    ('sglang', 'SGLangwithChatTemplate', 'abbr', 'judge-sglang'),
    ('openai', 'OpenAISDK', 'openai_api_base', 'http://127.0.0.1:8001/v1')])
def test_judges_convert_like_models(backend, type_, field, value):
    from opencompass.utils.run import change_accelerator
    datasets = resolve_judges([_dataset(_generic(HF_JUDGE))], {}, _args())
    before = copy.deepcopy(datasets)
    out = convert_judges(datasets, backend,
                         api_base='http://127.0.0.1:8001/v1')
    assert datasets == before  # pure
    judge = judge_models(out)[0]
    assert judge['type'] == type_ and judge[field] == value
    same = change_accelerator([HF_JUDGE], backend,
                              api_base='http://127.0.0.1:8001/v1')[0]
    assert judge == same  # the same rules as an evaluated model


def test_evaluators_import_without_engines():
    code = ('import sys; from opencompass.evaluator import GenericLLMEvaluator, '
            'CascadeEvaluator; from opencompass.datasets import '
            'generic_llmjudge_postprocess; '
            'print(sorted(m for m in ("torch", "transformers", "vllm", '
            '"openai") if m in sys.modules))')
    out = subprocess.run([sys.executable, '-c', code], capture_output=True,
                         text=True, check=True).stdout
    assert out.strip() == '[]'


def test_judge_fields_are_validated_like_model_fields():
    from opencompass.utils.validate import validate_judges
    with pytest.raises(ConfigError, match=r"judge judge-hf\.max_out_len: "
                       'expected a positive integer'):
        validate_judges([dict(HF_JUDGE, max_out_len='16')])


def test_a_judge_that_cannot_convert_names_the_way_out():
    from opencompass.errors import UnknownModelTypeError
    datasets = [_dataset(_generic(dict(type='my.CustomJudge', path='x')), 'd')]
    with pytest.raises(UnknownModelTypeError, match='the judge of dataset d: '
                       '.*--judge-accelerator hf'):
        convert_judges(datasets, 'vllm')
