"""The multiple-choice perplexity path through the engine backends, with the
engine stand-ins (tests/engine_standins): `-a vllm` scores every option from
prompt logprobs; a backend without perplexity stops with one line."""
import importlib.util
import json
import pathlib
import sys

import pytest

from opencompass.cli.main import main

from ..datasets.mc_samples import write_arc

STANDINS_DIR = pathlib.Path(__file__).parents[1] / 'engine_standins'


def _standins():
    if 'engine_standins' not in sys.modules:
        spec = importlib.util.spec_from_file_location(
            'engine_standins', STANDINS_DIR / '__init__.py',
            submodule_search_locations=[str(STANDINS_DIR)])
        module = importlib.util.module_from_spec(spec)
        sys.modules['engine_standins'] = module
        spec.loader.exec_module(module)
    return sys.modules['engine_standins']


@pytest.fixture
def arc_run(tmp_path, monkeypatch):
    write_arc(tmp_path / 'cache')
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path / 'cache'))
    monkeypatch.chdir(tmp_path)
    return ['--models', 'hf_smollm2_135m', '--datasets', 'ARC_c_ppl', '-w',
            'out']


def _question(qid, options):
    return {'id': qid, 'question': {'stem': f'Question {qid}?', 'choices': [
        {'text': text, 'label': label} for label, text in zip('ABCD', options)]},
        'answerKey': 'A'}


def test_arc_ppl_through_vllm_scores_every_option(arc_run, tmp_path,
                                                  monkeypatch):
    """The stand-in's prompt logprob falls with the position, so the option
    with the fewest (whitespace) tokens has the lowest mean NLL."""
    rows = [_question('q1', ['one two three', 'one', 'one two', 'a b c d']),
            _question('q2', ['x y', 'x y z', 'x', 'w x y z']),
            _question('q3', ['p q r s t', 'p q r', 'p q r s', 'p q'])]
    arc = tmp_path / 'cache' / 'data' / 'ARC' / 'ARC-c' / 'ARC-Challenge-Dev.jsonl'
    arc.write_text(''.join(json.dumps(r) + '\n' for r in rows))
    vllm = _standins().install(monkeypatch, 'vllm')
    assert main([*arc_run, '-a', 'vllm']) == 0
    run = tmp_path / 'out' / sorted((tmp_path / 'out').iterdir())[-1]
    preds = [json.loads(line) for line in
             (run / 'predictions' / 'smollm2-135m-vllm' / 'ARC-c.jsonl')
             .read_text().splitlines()]
    assert [p['prediction'] for p in sorted(preds, key=lambda p: p['idx'])] \
        == ['B', 'C', 'D']
    calls = vllm.LLM.instances[-1].calls
    scored = [p for call in calls for p in call['prompts']]
    assert len(scored) == 12  # every option of every question
    assert all(call['params'].prompt_logprobs == 1 for call in calls)


@pytest.mark.parametrize('backend', ['sglang', 'lmdeploy'])
def test_arc_ppl_through_sglang_and_lmdeploy(arc_run, tmp_path, monkeypatch,
                                            backend):
    """-a sglang / -a lmdeploy score every option through the engine's own
    perplexity path (stand-ins checked against the pinned engines' contracts)."""
    standins = _standins()
    standins.install(monkeypatch, backend)
    from opencompass.models import _engine_utils
    monkeypatch.setattr(_engine_utils, 'load_hf_tokenizer',
                        lambda path, **kw: standins.FakeTokenizer(path))
    assert main([*arc_run, '-a', backend]) == 0
    run = tmp_path / 'out' / sorted((tmp_path / 'out').iterdir())[-1]
    preds_file, = (run / 'predictions').rglob('ARC-c.jsonl')
    preds = [json.loads(line) for line in preds_file.read_text().splitlines()]
    assert sorted(p['idx'] for p in preds) == [0, 1, 2]
    assert all(p['prediction'] in 'ABCD' and not p.get('error') for p in preds)


def _fault_server():
    path = pathlib.Path(__file__).parents[1] / 'api' / 'fault_server.py'
    if 'fault_server' not in sys.modules:
        spec = importlib.util.spec_from_file_location('fault_server', path)
        module = importlib.util.module_from_spec(spec)
        sys.modules['fault_server'] = module
        spec.loader.exec_module(module)
    return sys.modules['fault_server'].FaultServer


@pytest.mark.slow
@pytest.mark.parametrize('engine', ['vllm', 'sglang'])
def test_arc_ppl_through_an_openai_server(arc_run, tmp_path, engine):
    """-a openai: every option is scored from the server's prompt logprobs
    (echo for vLLM, /generate for SGLang); the stand-in gives every token the
    same logprob, so all options tie and the first label wins."""
    with _fault_server()(engine) as srv:
        rc = main([*arc_run, '-a', 'openai', '--api-base', srv.base_url,
                   '--server-type', engine])
        scored = [r for r in srv.requests
                  if r['path'].endswith(('/completions', '/generate'))]
    assert rc == 0
    assert len(scored) == 12  # 3 four-option questions
    run = tmp_path / 'out' / sorted((tmp_path / 'out').iterdir())[-1]
    model = next((run / 'predictions').iterdir())
    preds = [json.loads(line) for line in
             (model / 'ARC-c.jsonl').read_text().splitlines()]
    assert sorted(p['prediction'] for p in preds) == ['A', 'A', 'A']
    assert not any(p.get('error') for p in preds)
