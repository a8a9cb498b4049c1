"""HumanEval: loading, code extraction, pass@k, and the sandbox that runs the
model's code: right, wrong, hanging, fork-bombing and file-deleting completions
each fail or pass their own sample and leave the machine as it was."""
import json
import os
import time

import pytest

from opencompass.datasets import (HumanevalDataset, HumanEvalEvaluator,
                                  humaneval_postprocess_v2)
from opencompass.datasets.humaneval import pass_at_k
from opencompass.errors import DataPathError
from opencompass.utils.sandbox import Limits, run_python

READER = dict(input_columns=['prompt'], output_column='task_id', train_split='test')

# Two small original problems in the HumanEval format.
PROBLEMS = [
    {'task_id': 'Sample/0',
     'prompt': 'def double_all(xs):\n    """Return a list with every item of xs '
               'doubled.\n    >>> double_all([1, 2])\n    [2, 4]\n    """\n',
     'entry_point': 'double_all',
     'canonical_solution': '    return [2 * x for x in xs]\n',
     'test': 'def check(candidate):\n    assert candidate([1, 2]) == [2, 4]\n'
             '    assert candidate([]) == []\n    assert candidate([-3]) == [-6]\n'},
    {'task_id': 'Sample/1',
     'prompt': 'def vowels(s):\n    """Count the vowels (aeiou) in s.\n    """\n',
     'entry_point': 'vowels',
     'canonical_solution': "    return sum(c in 'aeiou' for c in s)\n",
     'test': "def check(candidate):\n    assert candidate('banana') == 3\n"
             "    assert candidate('xyz') == 0\n"},
]


def _sandbox_pids(wait=3.0):
    """Processes running a sandboxed program, once those being killed are gone
    (waits up to `wait` seconds for that)."""
    deadline = time.time() + wait
    while True:
        pids = _sandbox_pids_now()
        if not pids or time.time() > deadline:
            return pids
        time.sleep(0.1)


def _sandbox_pids_now():
    pids = set()
    for pid in filter(str.isdigit, os.listdir('/proc')):
        try:
            with open(f'/proc/{pid}/cmdline', 'rb') as f:
                if b'oc_sandbox_' in f.read():
                    pids.add(pid)
        except OSError:
            pass
    return pids


@pytest.fixture
def problems_file(tmp_path):
    file = tmp_path / 'human-eval-v2-20210705.jsonl'
    file.write_text(''.join(json.dumps(p) + '\n' for p in PROBLEMS))
    return file


def _score(completions, problem=PROBLEMS[0], **kw):
    evaluator = HumanEvalEvaluator(timeout=kw.pop('timeout', 3), **kw)
    return evaluator.score(completions, [problem['task_id']] * len(completions),
                           [problem] * len(completions))


def test_dataset_from_file_folder_and_id(problems_file, tmp_path, monkeypatch):
    by_file = HumanevalDataset(path=str(problems_file), reader_cfg=READER)
    by_folder = HumanevalDataset(path=str(tmp_path), reader_cfg=READER)
    assert by_file.test == by_folder.test == PROBLEMS
    assert by_file.references() == ['Sample/0', 'Sample/1']
    (tmp_path / 'data' / 'humaneval').mkdir(parents=True)
    problems_file.rename(tmp_path / 'data' / 'humaneval' / problems_file.name)
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path))
    by_id = HumanevalDataset(path='opencompass/humaneval', reader_cfg=READER)
    assert by_id.test == PROBLEMS
    repeated = HumanevalDataset(path='opencompass/humaneval', num_repeats=3,
                                reader_cfg=READER)
    assert [r['task_id'] for r in repeated.test] == ['Sample/0'] * 3 + ['Sample/1'] * 3


def test_missing_data_is_one_line_naming_the_place(tmp_path, monkeypatch):
    monkeypatch.setenv('COMPASS_DATA_CACHE', str(tmp_path))
    with pytest.raises(DataPathError) as e:
        HumanevalDataset(path='opencompass/humaneval', reader_cfg=READER)
    msg = str(e.value)
    assert str(tmp_path / 'data' / 'humaneval') in msg and 'COMPASS_DATA_CACHE' in msg
    assert '\n' not in msg
    with pytest.raises(DataPathError, match='not found in'):
        HumanevalDataset(path=str(tmp_path), reader_cfg=READER)


def test_bad_line_names_file_and_line(tmp_path):
    (tmp_path / 'h.jsonl').write_text('{"task_id": "x"}\n')
    with pytest.raises(DataPathError, match=r'h\.jsonl:1 lacks'):
        HumanevalDataset(path=str(tmp_path / 'h.jsonl'), reader_cfg=READER)


@pytest.mark.parametrize('text, code', [
    ('```python\ndef f():\n    return 1\n```\nThis works.', 'def f():\n    return 1\n'),
    ('Here:\n```\n    return 2\n```', '    return 2\n'),
    ('    return 3\n', '    return 3\n'),
    ('```py\nx = 1\n', 'x = 1\n'),  # unterminated fence: up to the end
    # no opening fence: the code is what comes before the closing one
    ('def f():\n    return 4\n```\n\nIt returns 4.', 'def f():\n    return 4\n'),
])
def test_postprocess_v2_takes_the_code(text, code):
    assert humaneval_postprocess_v2(text) == code


def test_pass_at_k_estimator():
    assert pass_at_k(10, 0, 1) == 0.0
    assert pass_at_k(10, 10, 5) == 1.0
    assert pass_at_k(4, 1, 1) == pytest.approx(0.25)
    assert pass_at_k(4, 1, 2) == pytest.approx(0.5)  # 1 - C(3,2)/C(4,2)


def test_correct_and_wrong_completions():
    right = PROBLEMS[0]['canonical_solution']
    wrong = '    return xs * 2\n'  # repeats the list instead
    whole = ('```python\ndef double_all(xs):\n    return [x + x for x in xs]\n```')
    result = _score([right, wrong, humaneval_postprocess_v2(whole)])
    assert [d['correct'] for d in result['details']] == [True, False, True]
    assert result['details'][1]['status'] == 'error'
    assert 'AssertionError' in result['details'][1]['output']
    assert result['humaneval_pass@1'] == pytest.approx(200 / 3)


def test_hostile_completions_fail_alone_and_leave_no_trace(tmp_path):
    sentinel = tmp_path / 'sentinel.txt'
    sentinel.write_text('keep me')
    right = PROBLEMS[0]['canonical_solution']
    hang = '    while True:\n        pass\n'
    fork_bomb = ('    import os\n    while True:\n        try:\n            os.fork()\n'
                 '        except OSError:\n            pass\n')
    delete = (f'    import os, shutil\n    os.remove({str(sentinel)!r})\n'
              f'    shutil.rmtree({str(tmp_path)!r})\n    return [2 * x for x in xs]\n')
    before = _sandbox_pids_now()
    result = _score([hang, fork_bomb, delete, right], timeout=2)
    status = [d['status'] for d in result['details']]
    assert [d['correct'] for d in result['details']] == [False, False, False, True]
    assert status[:2] == ['timeout', 'timeout']
    assert status[2] == 'error'  # it could not delete the file
    assert sentinel.read_text() == 'keep me'
    assert _sandbox_pids() <= before  # nothing left running
    assert _score([right])['humaneval_pass@1'] == 100.0  # still works after


def test_no_network_no_secrets_own_folder(monkeypatch):
    monkeypatch.setenv('OPENAI_API_KEY', 'sk-secret-in-parent')
    code = ('import os, socket\n'
            "print('KEY' if 'sk-secret' in str(os.environ) else 'nokey')\n"
            "print('cwd', os.getcwd())\n"
            'try:\n'
            "    socket.create_connection(('127.0.0.1', 22), timeout=1)\n"
            "    print('net')\n"
            'except OSError:\n'
            "    print('nonet')\n"
            'import _socket\n'  # the C module behind the blocked Python one
            'try:\n'
            '    s = _socket.socket()\n'
            "    s.connect(('127.0.0.1', 22))\n"
            "    print('raw net')\n"
            'except OSError:\n'
            "    print('no raw net')\n")
    lines = run_python(code, Limits(timeout=5)).output.splitlines()
    assert lines[0] == 'nokey' and lines[2:] == ['nonet', 'no raw net']
    cwd = lines[1].split(' ', 1)[1]
    assert 'oc_sandbox_' in cwd
    assert not os.path.exists(cwd)  # thrown away


def test_memory_limit():
    result = run_python('x = bytearray(3 * 1024 ** 3)\n', Limits(timeout=5,
                                                                memory_mb=512))
    assert result.status == 'error' and 'MemoryError' in result.output


def test_output_flood_is_capped():
    result = run_python("import sys\nwhile True:\n    sys.stdout.write('x' * 65536)\n",
                        Limits(timeout=2, file_size_mb=1))
    assert not result.passed and len(result.output) <= 2000


def test_real_humaneval_canonical_solutions_pass(repo_root):
    file = repo_root.parent / 'shared' / 'data' / 'humaneval' / \
        'human-eval-v2-20210705.jsonl'
    if not file.is_file():
        pytest.skip(f'HumanEval not found at {file}')
    ds = HumanevalDataset(path=str(file), reader_cfg=dict(READER,
                                                            test_range='[0:20]'))
    result = HumanEvalEvaluator().score(
        [r['canonical_solution'] for r in ds.test], ds.references(), ds.test)
    assert result['humaneval_pass@1'] == 100.0
