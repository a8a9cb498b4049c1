"""GenericLLMEvaluator, CascadeEvaluator and the A/B verdict parser, against a
scripted judge server (fixed verdicts, unparseable ones, 500s), including the
judge log that makes judging resumable."""
import json
import pathlib
import sys

import pytest

HERE = pathlib.Path(__file__).resolve().parent
sys.path.insert(0, str(HERE.parent / 'api'))
sys.path.insert(0, str(HERE))

from fault_server import FaultServer  # noqa: E402
from judge_fixtures import PROMPT_TEMPLATE, api_judge, verdicts  # noqa: E402

from opencompass.datasets.generic import (  # noqa: E402
    generic_llmjudge_academic_postprocess, generic_llmjudge_postprocess,
    parse_verdict)
from opencompass.evaluator import CascadeEvaluator, GenericLLMEvaluator  # noqa: E402
from opencompass.tasks.judge import JudgeContext, JudgePool  # noqa: E402

ROWS = [{'problem': f'P{i}: what is {i}+{i}?', 'solution': str(2 * i)}
        for i in range(6)]
REFS = [r['solution'] for r in ROWS]


@pytest.mark.parametrize('reply, verdict', [
    ('A', 'A'), ('B', 'B'), ('A: CORRECT', 'A'), ('B: INCORRECT', 'B'),
    ('  **B**', 'B'), ('Answer: B', 'B'), ('The grade is A.', 'A'),
    ('CORRECT', 'A'), ('INCORRECT', 'B'),
    ('<think>Is it A or B? Maybe A.</think>\nB', 'B'),
    ('I cannot tell', None), ('', None), ('correct-ish', None)])
def test_parse_verdict(reply, verdict):
    assert parse_verdict(reply) == verdict


def test_dict_postprocessors_take_upstream_arguments():
    output = {'0': {'prediction': 'A', 'gold': '1'},
              '1': {'prediction': 'B', 'gold': '2'},
              '2': {'prediction': 'no idea', 'gold': '3'},
              '3': {'prediction': 'A', 'gold': '4'}}
    result = generic_llmjudge_postprocess(output, 'unused.json')
    assert result['accuracy'] == 50.0
    assert [d['verdict'] for d in result['details']] == ['A', 'B', None, 'A']
    assert [d['parsed'] for d in result['details']] == [True, True, False, True]
    academic = generic_llmjudge_academic_postprocess(output, '', metric_name='m')
    assert academic['m'] == 50.0 and 'accuracy' not in academic


def _asked(srv, marker):
    """How many judge requests asked about the sample with `marker`."""
    return sum(marker in r['text'] for r in srv.requests)


def _evaluator(base, **judge):
    return GenericLLMEvaluator(
        prompt_template=PROMPT_TEMPLATE, judge_cfg=api_judge(base, **judge),
        dict_postprocessor=dict(type='generic_llmjudge_postprocess'))


SCRIPT = {'P0': 'A', 'P1': 'B', 'P2': 'A: CORRECT', 'P3': 'I cannot tell',
          'P4': 'A', 'P5': 'INCORRECT'}


def test_generic_evaluator_scores_parses_and_records_failures(tmp_path):
    with FaultServer('vllm', models=('judge-model', ),
                     answer=verdicts(SCRIPT)) as srv:
        srv.script('P4:', '500')  # retry=0: this sample's judge call fails
        ev = _evaluator(srv.base_url)
        log = tmp_path / 'judge' / 'm' / 'd.jsonl'
        with JudgePool() as pool:
            ev.set_judge_context(JudgeContext(pool, str(log)))
            preds = [f'\\boxed{{{i}}}' for i in range(6)]
            result = ev.score(preds, REFS, ROWS)
    assert result['accuracy'] == pytest.approx(100 * 2 / 6)
    assert (result['judged'], result['unparsed'], result['judge_failed']) == (
        5, 1, 1)
    d = result['details']
    assert [x['verdict'] for x in d] == ['A', 'B', 'A', None, None, 'B']
    assert 'judge_error' in d[4] and not d[4]['judged']
    assert d[3]['judge_response'] == 'I cannot tell' and d[3]['parsed'] is False
    # the judge saw the question, the gold and the prediction
    shown = json.dumps(d[1]['judge_prompt'])
    assert 'P1: what is 1+1?' in shown and 'Gold Target Begin>: 2' in shown
    assert '\\\\boxed{1}' in shown
    assert d[0]['judge_prompt'][0]['role'] == 'SYSTEM'
    # every verdict is in the log, the failure with its error
    lines = [json.loads(x) for x in log.read_text().splitlines()]
    assert [r['idx'] for r in lines] == list(range(6))
    assert 'error' in lines[4] and lines[0]['judge_response'] == 'A'


def test_resume_judges_only_what_has_no_verdict(tmp_path):
    log = str(tmp_path / 'judge.jsonl')
    preds = [f'\\boxed{{{i}}}' for i in range(6)]
    with FaultServer('vllm', models=('judge-model', ),
                     answer=verdicts(SCRIPT)) as srv:
        srv.script('P4:', '500')
        with JudgePool() as pool:
            ev = _evaluator(srv.base_url)
            ev.set_judge_context(JudgeContext(pool, log))
            ev.score(preds, REFS, ROWS)
            asked = len(srv.requests)
            ev = _evaluator(srv.base_url)
            ev.set_judge_context(JudgeContext(pool, log))
            again = ev.score(preds, REFS, ROWS)
        assert len(srv.requests) == asked + 1  # only P4, which had failed
        assert _asked(srv, 'P4:') == 2
        assert again['judge_failed'] == 0 and again['accuracy'] == 50.0
        # a changed prediction is a changed judge prompt: judged again
        with JudgePool() as pool:
            ev = _evaluator(srv.base_url)
            ev.set_judge_context(JudgeContext(pool, log))
            ev.score(preds[:5] + ['\\boxed{10}'], REFS, ROWS)
        assert len(srv.requests) == asked + 2


def test_torn_judge_log_loses_only_the_torn_verdict(tmp_path):
    log = tmp_path / 'judge.jsonl'
    preds = [f'\\boxed{{{i}}}' for i in range(6)]
    with FaultServer('vllm', models=('judge-model', ),
                     answer=verdicts(SCRIPT)) as srv:
        with JudgePool() as pool:
            ev = _evaluator(srv.base_url)
            ev.set_judge_context(JudgeContext(pool, str(log)))
            first = ev.score(preds, REFS, ROWS)
            text = log.read_bytes()
            log.write_bytes(text[:-20])  # a kill mid-write of the last verdict
            ev.set_judge_context(JudgeContext(pool, str(log)))
            second = ev.score(preds, REFS, ROWS)
        assert len(srv.requests) == 7
    assert second['accuracy'] == first['accuracy']
    assert len(log.read_text().splitlines()) == 6


def test_failed_predictions_are_not_judged(tmp_path):
    with FaultServer('vllm', models=('judge-model', ),
                     answer=verdicts(SCRIPT)) as srv:
        with JudgePool() as pool:
            ev = _evaluator(srv.base_url)
            ev.set_judge_context(JudgeContext(pool, None, frozenset({0, 2})))
            result = ev.score(['x'] * 6, REFS, ROWS)
        assert not _asked(srv, 'P0:') and not _asked(srv, 'P2:')
    assert result['judged'] == 4 and result['unparsed'] == 1
    # P4 alone: P0 and P2 would have been judged correct, had they an answer
    assert result['accuracy'] == pytest.approx(100 / 6)


@pytest.mark.parametrize('parallel', [False, True])
def test_cascade_sends_rule_failures_to_the_judge(tmp_path, parallel):
    # the rule (MATH equivalence) accepts P0..P2; the judge sees P3..P5
    # (or all, in parallel mode) and accepts P2 and P4
    table = {'P0': 'B', 'P1': 'B', 'P2': 'A', 'P3': 'B', 'P4': 'A', 'P5': 'B'}
    preds = ['\\boxed{0}', '\\boxed{2}', '\\boxed{4}', 'six', 'eight', 'ten']
    with FaultServer('vllm', models=('judge-model', ),
                     answer=verdicts(table)) as srv:
        ev = CascadeEvaluator(
            rule_evaluator=dict(type='MATHEvaluator'),
            llm_evaluator=dict(
                type='GenericLLMEvaluator', prompt_template=PROMPT_TEMPLATE,
                judge_cfg=api_judge(srv.base_url),
                dict_postprocessor=dict(type='generic_llmjudge_postprocess')),
            parallel=parallel)
        with JudgePool() as pool:
            ev.set_judge_context(JudgeContext(pool, str(tmp_path / 'j.jsonl')))
            result = ev.score(preds, REFS, ROWS)
        judged = sorted(i for i in range(6) if _asked(srv, f'P{i}:'))
    assert judged == ([0, 1, 2, 3, 4, 5] if parallel else [3, 4, 5])
    assert [d['correct'] for d in result['details']] == [
        True, True, True, False, True, False]
    assert result['accuracy'] == pytest.approx(100 * 4 / 6)
    stats = result['cascade_stats']
    assert stats['rule_correct'] == 3 and stats['llm_evaluated'] == len(judged)
    assert 'llm_evaluation' not in result['details'][0] or parallel


def test_cascade_needs_a_rule():
    from opencompass.errors import ConfigError
    with pytest.raises(ConfigError, match='rule_evaluator'):
        CascadeEvaluator(llm_evaluator=dict(
            type='GenericLLMEvaluator', prompt_template=PROMPT_TEMPLATE))


def test_an_api_judge_keeps_batch_size_requests_in_flight(tmp_path):
    with FaultServer('vllm', models=('judge-model', ),
                     answer=verdicts(SCRIPT)) as srv:
        for i in range(6):
            srv.script(f'P{i}:', 'slow:0.3')
        with JudgePool() as pool:
            ev = _evaluator(srv.base_url)  # batch_size=4
            ev.set_judge_context(JudgeContext(pool, None))
            ev.score(['x'] * 6, REFS, ROWS)
        assert srv.max_in_flight == 4
