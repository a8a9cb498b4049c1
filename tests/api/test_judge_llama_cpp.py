"""A real judge on -a openai: the embedded model's HF judge dict converted by
change_accelerator to the llama.cpp server (llama-cpp-python) that serves it,
judging the shipped MATH judge config on the sample data."""
import json
import os
import pathlib
import subprocess
import sys

import pytest

pytestmark = pytest.mark.slow
REPO = pathlib.Path(__file__).resolve().parents[2]
EMBEDDED = 'embedded://smollm2-135m-instruct'
ABBR = 'math_prm800k_500-llmjudge'


def test_embedded_judge_behind_llama_cpp_on_openai(tmp_path, family_data_root,
                                                   llama_cpp_server):
    srv = llama_cpp_server
    env = {**os.environ, 'PYTHONPATH': str(REPO),
           'COMPASS_DATA_CACHE': str(family_data_root)}
    proc = subprocess.run(
        [sys.executable, str(REPO / 'run.py'), '--hf-path', EMBEDDED,
         '--datasets', 'math_prm800k_500_llm_judge_gen', '--max-out-len', '16',
         '-a', 'openai', '--api-base', srv.base_url, '--api-model', srv.model,
         '--judge-hf-path', EMBEDDED, '--judge-max-out-len', '4', '-w', 'w'],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert proc.returncode == 0, proc.stderr[-3000:]
    run = tmp_path / 'w' / sorted(os.listdir(tmp_path / 'w'))[-1]
    model = 'smollm2-135m-instruct-openai'
    result = json.loads((run / 'results' / model / f'{ABBR}.json').read_text())
    details = result['details']
    assert result['judged'] == 2 and result['failed'] == 0
    said_a = sum(d['verdict'] == 'A' for d in details)
    assert result['accuracy'] == pytest.approx(50.0 * said_a)
    assert result['unparsed'] == sum(d['verdict'] is None for d in details)
    # the judge ran on the server: its verdicts name the converted judge
    log = run / 'judge' / model / f'{ABBR}.jsonl'
    judges = {json.loads(line)['judge'] for line in log.read_text().splitlines()}
    assert len(judges) == 1 and judges.pop().startswith(
        'smollm2-135m-instruct-openai#')
