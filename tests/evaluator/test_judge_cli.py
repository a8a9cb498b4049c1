"""A judged MATH config through the CLI: the evaluated model and the judge are
scripted servers, so every number is exact. Checks where the judge comes from
(config judge_models, --judge-api-base, none: one error before inference),
failure recording, `-r` judging only what lacks a verdict, the summary's
unparsed-verdict column, and how `-a` / `--judge-accelerator` convert the
judge (--dry-run)."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / 'api'))
sys.path.insert(0, str(HERE))

from fault_server import FaultServer  # noqa: E402
from judge_fixtures import TEMPLATE, api_judge, verdicts  # noqa: E402

REPO = HERE.parents[1]
# the model answers P<i> with \boxed{<answer>}; the judge's verdict per sample
ANSWERS = {'P0': '0', 'P1': '3', 'P2': '4', 'P3': '7', 'P4': '8', 'P5': '11'}
VERDICTS = {'P0': 'A', 'P1': 'B', 'P2': 'A: CORRECT', 'P3': 'I cannot tell',
            'P4': 'A', 'P5': 'INCORRECT'}

CONFIG = '''
from opencompass.datasets import MATHDataset, generic_llmjudge_postprocess
from opencompass.evaluator import GenericLLMEvaluator
from opencompass.openicl.icl_inferencer import GenInferencer
from opencompass.openicl.icl_prompt_template import PromptTemplate
from opencompass.openicl.icl_retriever import ZeroRetriever

reader_cfg = dict(input_columns=['problem'], output_column='solution')
datasets = [dict(
    type=MATHDataset, abbr='math-judged', path={data!r},
    reader_cfg=reader_cfg,
    infer_cfg=dict(
        prompt_template=dict(type=PromptTemplate, template=dict(round=[
            dict(role='HUMAN', prompt='{{problem}}')])),
        retriever=dict(type=ZeroRetriever),
        inferencer=dict(type=GenInferencer)),
    eval_cfg=dict(evaluator=dict(
        type=GenericLLMEvaluator,
        prompt_template=dict(type=PromptTemplate, template=dict(round=[
            dict(role='HUMAN', prompt={template!r})])),
        dataset_cfg=dict(type=MATHDataset, path={data!r},
                         reader_cfg=reader_cfg),
        judge_cfg=dict(),
        dict_postprocessor=dict(type=generic_llmjudge_postprocess))))]
models = [dict(type='OpenAISDK', abbr='scripted-api', path='model',
               openai_api_base={model_base!r}, key='EMPTY', retry=0,
               batch_size=4, max_out_len=16)]
'''


def _answer(text):
    for marker, value in ANSWERS.items():
        if marker + ':' in text:
            return f'The answer is \\boxed{{{value}}}.'
    return 'no idea'


@pytest.fixture
def math_data(tmp_path):
    folder = tmp_path / 'math'
    folder.mkdir()
    rows = {str(i): {'problem': f'P{i}: what is {i}+{i}?', 'level': 'Level 1',
                     'type': 'Algebra', 'solution': f'$\\boxed{{{2 * i}}}$'}
            for i in range(6)}
    (folder / 'math.json').write_text(json.dumps(rows))
    return folder


@pytest.fixture
def servers():
    with FaultServer('vllm', models=('model', ), answer=_answer) as model, \
            FaultServer('vllm', models=('judge-model', ),
                        answer=verdicts(VERDICTS)) as judge:
        yield model, judge


def _write_config(tmp_path, data, model_base, judge=None):
    text = CONFIG.format(data=str(data), template=TEMPLATE,
                         model_base=model_base)
    if judge:
        text += f'judge_models = [{judge!r}]\n'
    path = tmp_path / 'judged.py'
    path.write_text(text)
    return path


def _cli(cwd, *args):
    env = {**os.environ, 'PYTHONPATH': str(REPO)}
    return subprocess.run([sys.executable, str(REPO / 'run.py'),
                           *map(str, args)], cwd=cwd, env=env,
                          capture_output=True, text=True, timeout=300)


def _judge_asked(srv):
    return [r['text'] for r in srv.requests]


def _run(tmp_path):
    root = tmp_path / 'w'
    return root / sorted(os.listdir(root))[-1]


def test_judged_run_records_failures_and_resume_judges_only_those(
        tmp_path, math_data, servers):
    model_srv, judge_srv = servers
    judge_srv.script('P4:', '500')  # retry=0: the judge call of P4 fails
    cfg = _write_config(tmp_path, math_data, model_srv.base_url,
                        api_judge(judge_srv.base_url))
    first = _cli(tmp_path, cfg, '-w', 'w')
    assert first.returncode == 3, first.stderr  # a failed judge call
    assert '1 of 6 samples failed' in first.stderr
    run = _run(tmp_path)
    result = json.loads((run / 'results' / 'scripted-api' /
                         'math-judged.json').read_text())
    assert result['accuracy'] == pytest.approx(100 * 2 / 6)
    assert (result['failed'], result['unparsed'], result['judged']) == (1, 1, 5)
    details = result['details']
    assert details[4]['error'].startswith('judge: ')
    assert details[3]['judge_response'] == 'I cannot tell'
    assert details[2]['verdict'] == 'A' and details[1]['verdict'] == 'B'
    assert 'P1: what is 1+1?' in json.dumps(details[1]['judge_prompt'])
    assert '\\\\boxed{3}' in json.dumps(details[1]['judge_prompt'])
    # the summary: the judged dataset and its unparsed verdicts
    assert 'math-judged' in first.stdout and 'unparsed' in first.stdout
    assert 'scripted-api: 1' in first.stdout
    log = run / 'judge' / 'scripted-api' / 'math-judged.jsonl'
    assert len(log.read_text().splitlines()) == 6
    asked = len(judge_srv.requests)
    model_asked = len(model_srv.requests)

    second = _cli(tmp_path, cfg, '-w', 'w', '-r')
    assert second.returncode == 0, second.stderr
    assert len(model_srv.requests) == model_asked  # nothing predicted again
    new = _judge_asked(judge_srv)[asked:]
    assert len(new) == 1 and 'P4:' in new[0]  # only the failed verdict
    result = json.loads((run / 'results' / 'scripted-api' /
                         'math-judged.json').read_text())
    assert result['accuracy'] == 50.0 and result['failed'] == 0
    assert result['unparsed'] == 1

    third = _cli(tmp_path, cfg, '-w', 'w', '-r')
    assert third.returncode == 0 and len(judge_srv.requests) == asked + 1
    assert 'all 6 verdicts exist' in third.stderr


def test_judge_from_the_command_line(tmp_path, math_data, servers):
    model_srv, judge_srv = servers
    cfg = _write_config(tmp_path, math_data, model_srv.base_url)
    proc = _cli(tmp_path, cfg, '-w', 'w', '--judge-api-base',
                judge_srv.base_url, '--judge-api-model', 'judge-model',
                '--judge-api-key', 'sk-judge-secret-0123456789')
    assert proc.returncode == 0, proc.stderr
    assert len(judge_srv.requests) == 6
    assert all(r['body']['model'] == 'judge-model' for r in judge_srv.requests)
    run = _run(tmp_path)
    result = json.loads((run / 'results' / 'scripted-api' /
                         'math-judged.json').read_text())
    assert result['accuracy'] == 50.0  # P0, P2, P4
    dumped = ''.join(p.read_text() for p in (run / 'configs').iterdir())
    assert 'sk-judge-secret' not in dumped + proc.stdout + proc.stderr


def test_a_judged_dataset_without_judge_stops_before_inference(
        tmp_path, math_data, servers):
    model_srv, _ = servers
    cfg = _write_config(tmp_path, math_data, model_srv.base_url)
    env_free = {k: v for k, v in os.environ.items()
                if not k.startswith('OC_JUDGE')}
    proc = subprocess.run([sys.executable, str(REPO / 'run.py'), str(cfg),
                           '-w', 'w'], cwd=tmp_path, capture_output=True,
                          text=True, timeout=120,
                          env={**env_free, 'PYTHONPATH': str(REPO)})
    assert proc.returncode == 2
    assert proc.stderr.strip().splitlines()[-1].startswith(
        'error: dataset math-judged is scored by an LLM judge')
    assert 'Traceback' not in proc.stderr
    assert not model_srv.requests  # nothing was inferred


HF_JUDGE = dict(type='HuggingFacewithChatTemplate', abbr='judge-7b-hf',
                path='org/judge-7b', max_out_len=64, batch_size=16,
                run_cfg=dict(num_gpus=2))


def _dry_run(tmp_path, cfg, *args):
    proc = _cli(tmp_path, cfg, '--dry-run', *args)
    assert proc.returncode == 0, proc.stderr
    text = proc.stdout.split('judge models:')[1].split('datasets:')[0]
    return proc, json.loads(text)


def test_dry_run_converts_the_judge_with_the_models(tmp_path, math_data):
    model = dict(type='HuggingFacewithChatTemplate', abbr='small-hf',
                 path='org/small', max_out_len=16, batch_size=4)
    cfg = _write_config(tmp_path, math_data, 'http://127.0.0.1:9/v1', HF_JUDGE)
    cfg.write_text(cfg.read_text() + f'models = [{model!r}]\n')
    proc, judges = _dry_run(tmp_path, cfg, '-a', 'vllm')
    assert [j['type'] for j in judges] == ['VLLMwithChatTemplate']
    assert judges[0]['abbr'] == 'judge-7b-vllm'
    assert judges[0]['model_kwargs']['tensor_parallel_size'] == 2
    assert 'small-vllm' in proc.stdout
    # the judge stays on HF while the model moves to vLLM
    proc, judges = _dry_run(tmp_path, cfg, '-a', 'vllm',
                            '--judge-accelerator', 'hf')
    assert [j['type'] for j in judges] == ['HuggingFacewithChatTemplate']
    assert 'small-vllm' in proc.stdout
    # -a openai: the judge is asked at its own server
    proc, judges = _dry_run(tmp_path, cfg, '-a', 'openai', '--api-base',
                            'http://127.0.0.1:8000/v1', '--judge-api-base',
                            'http://127.0.0.1:8001/v1')
    assert judges[0]['type'] == 'OpenAISDK'
    assert judges[0]['openai_api_base'] == 'http://127.0.0.1:8001/v1'


def test_judge_flags_are_checked(tmp_path, math_data):
    cfg = _write_config(tmp_path, math_data, 'http://127.0.0.1:9/v1', HF_JUDGE)
    proc = _cli(tmp_path, cfg, '--dry-run', '--judge-accelerator', 'tpu')
    assert proc.returncode == 2 and "unknown accelerator 'tpu'" in proc.stderr
    proc = _cli(tmp_path, cfg, '--dry-run', '--judge-api-model', 'x')
    assert proc.returncode == 2 and 'needs --judge-api-base' in proc.stderr
    proc = _cli(tmp_path, cfg, '--dry-run', '--judge-api-base', 'nope')
    assert proc.returncode == 2 and '--judge-api-base' in proc.stderr


def test_a_kill_while_judging_loses_no_verdict(tmp_path, math_data, servers):
    """SIGKILL with verdicts of P0..P3 logged and P5's judge call hanging:
    `-r` asks the judge only about the samples without a verdict."""
    import signal
    import time
    model_srv, judge_srv = servers
    judge_srv.script('P5:', 'slow:60')
    cfg = _write_config(tmp_path, math_data, model_srv.base_url,
                        api_judge(judge_srv.base_url, batch_size=1))
    env = {**os.environ, 'PYTHONPATH': str(REPO)}
    proc = subprocess.Popen([sys.executable, str(REPO / 'run.py'), str(cfg),
                             '-w', 'w'], cwd=tmp_path, env=env,
                            stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                            start_new_session=True)
    deadline = time.monotonic() + 120
    log = None
    while time.monotonic() < deadline:
        found = list((tmp_path / 'w').glob('*/judge/scripted-api/*.jsonl'))
        if found and len(found[0].read_text().splitlines()) >= 5:
            log = found[0]
            break
        time.sleep(0.1)
    os.killpg(proc.pid, signal.SIGKILL)
    proc.wait()
    assert log is not None, proc.stderr.read().decode()[-2000:]
    before = {json.loads(line)['idx'] for line in log.read_text().splitlines()}
    assert before == {0, 1, 2, 3, 4}  # judged one at a time, in order
    asked = len(judge_srv.requests)

    resumed = _cli(tmp_path, cfg, '-w', 'w', '-r')
    assert resumed.returncode == 0, resumed.stderr
    new = [r['text'] for r in judge_srv.requests[asked:]]
    assert len(new) == 1 and 'P5:' in new[0]
    result = json.loads((_run(tmp_path) / 'results' / 'scripted-api' /
                         'math-judged.json').read_text())
    assert result['judged'] == 6 and result['accuracy'] == 50.0
