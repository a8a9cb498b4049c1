"""Resume bookkeeping: what counts as done, torn lines, failed samples, order."""
import json

from opencompass.models.base import Generation
from opencompass.tasks.predictions import PredictionStore


def test_todo_skips_done_and_retries_failed(tmp_path):
    store = PredictionStore(str(tmp_path / 'p' / 'd.jsonl'))
    assert store.todo(4) == [0, 1, 2, 3]
    store.write(2, 'p2', Generation('x', 3))
    store.write(0, 'p0', Generation('', error='HTTP 500'))
    store.close()
    assert store.todo(4) == [0, 1, 3]


def test_torn_last_line_is_ignored(tmp_path):
    path = tmp_path / 'd.jsonl'
    path.write_text(json.dumps({'idx': 1, 'prediction': 'a'}) + '\n{"idx": 0, "pre')
    assert PredictionStore(str(path)).todo(2) == [0]


def test_compact_orders_and_keeps_last_record(tmp_path):
    store = PredictionStore(str(tmp_path / 'd.jsonl'))
    store.write(3, 'p', Generation('three'))
    store.write(1, 'p', Generation('', error='timeout'))
    store.write(1, 'p', Generation('one'))
    store.compact()
    lines = [json.loads(l) for l in (tmp_path / 'd.jsonl').read_text().splitlines()]
    assert [(r['idx'], r['prediction']) for r in lines] == [(1, 'one'), (3, 'three')]
    assert 'error' not in lines[0]


def test_compact_with_nothing_written_creates_nothing(tmp_path):
    store = PredictionStore(str(tmp_path / 'missing' / 'd.jsonl'))
    assert store.compact() == {}
    assert not (tmp_path / 'missing').exists()
