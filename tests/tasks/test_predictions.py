"""Resume bookkeeping: what counts as done, torn lines, failed samples, order."""
import errno
import json
import os

import pytest

from opencompass.errors import DiskFullError
from opencompass.models.base import Generation
from opencompass.tasks.predictions import PredictionStore, add_stats


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


def _write(store, idx, text='x'):
    store.write(idx, f'p{idx}', Generation(text, 1))


def test_torn_tail_is_cut_before_the_next_append(tmp_path):
    """A kill mid-write leaves half a line; the next record must not be glued
    to it (it used to be, and both were lost)."""
    path = tmp_path / 'd.jsonl'
    path.write_text(json.dumps({'idx': 0, 'prediction': 'a'}) + '\n{"idx": 1, "pre')
    store = PredictionStore(str(path))
    assert store.todo(3) == [1, 2]
    _write(store, 1, 'b')
    _write(store, 2, 'c')
    store.close()
    lines = path.read_text().splitlines()
    assert [json.loads(l)['idx'] for l in lines] == [0, 1, 2]
    assert store.todo(3) == []


def test_torn_utf8_character_at_the_end(tmp_path):
    path = tmp_path / 'd.jsonl'
    good = json.dumps({'idx': 0, 'prediction': 'é'}, ensure_ascii=False) + '\n'
    torn = json.dumps({'idx': 1, 'prediction': '数'}, ensure_ascii=False).encode()
    path.write_bytes(good.encode() + torn[:-4])  # cut inside the 3-byte character
    store = PredictionStore(str(path))
    assert store.todo(2) == [1]
    _write(store, 1)
    assert store.compact().keys() == {0, 1}
    assert path.read_bytes().decode('utf-8').count('\n') == 2


def test_garbage_line_in_the_middle_is_redone_not_fatal(tmp_path):
    path = tmp_path / 'd.jsonl'
    path.write_bytes(b'\xff\xfe junk\n[1, 2]\n' +
                     json.dumps({'idx': 2, 'prediction': 'c'}).encode() + b'\n')
    assert PredictionStore(str(path)).todo(3) == [0, 1]


def test_compact_leaves_no_temp_file_and_keeps_the_old_file_on_failure(
        tmp_path, monkeypatch):
    store = PredictionStore(str(tmp_path / 'd.jsonl'))
    _write(store, 0)
    before = (tmp_path / 'd.jsonl').read_text()

    def full(*args, **kwargs):
        raise OSError(errno.ENOSPC, 'No space left on device')
    monkeypatch.setattr(os, 'fsync', full)
    with pytest.raises(DiskFullError, match='resume with -r'):
        store.compact()
    assert (tmp_path / 'd.jsonl').read_text() == before
    assert os.listdir(tmp_path) == ['d.jsonl']


def test_disk_full_on_append_is_one_error_and_the_file_stays_readable(tmp_path):
    store = PredictionStore(str(tmp_path / 'd.jsonl'))
    _write(store, 0)

    class FullFile:
        def write(self, text):
            raise OSError(errno.ENOSPC, 'No space left on device')

        def close(self):
            raise OSError(errno.ENOSPC, 'No space left on device')
    store._file = FullFile()
    with pytest.raises(DiskFullError):
        _write(store, 1)
    assert store._file is None
    assert PredictionStore(store.path).todo(2) == [1]


def test_torn_stats_file_is_rebuilt_from_the_predictions(tmp_path):
    store = PredictionStore(str(tmp_path / 'd.jsonl'))
    for i in range(3):
        _write(store, i)
    store.compact()
    stats = tmp_path / 'd.stats.json'
    stats.write_text('{"seconds": 12.5, "samp')
    add_stats(str(stats), {'seconds': 2.0, 'samples': 1, 'out_tokens': 1}, store)
    total = json.loads(stats.read_text())
    assert total == {'seconds': 2.0, 'samples': 3, 'out_tokens': 3}
    add_stats(str(stats), {'seconds': 1.0, 'samples': 1, 'out_tokens': 5}, store)
    assert json.loads(stats.read_text()) == {'seconds': 3.0, 'samples': 4,
                                             'out_tokens': 8}
