"""Runs against hostile input, kills, full disks and each other, through the
CLI, on the fast ScriptedModel (tests/helpers) so every case is seconds.

Guarantees under test: nothing written outside the run folder, no secret on
disk or screen, a torn predictions file repaired, one writer per run folder,
`-r` only on the same config, no process outliving run.py, exit codes.
"""
import json
import os
import pathlib
import signal
import subprocess
import sys
import time
import importlib.util
import uuid

import pytest

pytestmark = pytest.mark.slow
REPO = pathlib.Path(__file__).resolve().parents[1]
SHARED = REPO.parent / 'shared'
HELPERS = REPO / 'tests' / 'helpers'


def _load_helper():
    """tests/helpers/scripted_model.py by file path (no sys.path change)."""
    spec = importlib.util.spec_from_file_location(
        'scripted_model_for_tests', HELPERS / 'scripted_model.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scripted_config_text = _load_helper().scripted_config_text


def _env(extra=None):
    return {**os.environ, 'COMPASS_DATA_CACHE': str(SHARED),
            'PYTHONPATH': f'{REPO}{os.pathsep}{HELPERS}', **(extra or {})}


def _cli(args, cwd, env=None, timeout=300):
    return subprocess.run([sys.executable, str(REPO / 'run.py'), *map(str, args)],
                          cwd=cwd, env=_env(env), capture_output=True, text=True,
                          timeout=timeout)


def _one_error(proc, code=2):
    assert proc.returncode == code, proc.stderr
    assert 'Traceback' not in proc.stderr, proc.stderr
    errors = [l for l in proc.stderr.splitlines() if l.startswith('error: ')]
    assert len(errors) == 1, proc.stderr
    return errors[0]


def _runs(work):
    return sorted(p for p in pathlib.Path(work).iterdir() if p.is_dir())


def _results(run):
    """(model file, dataset file) -> [(idx, prediction, correct)] of a run."""
    out = {}
    for path in sorted((run / 'results').rglob('*.json')):
        res = json.loads(path.read_text())
        out[path.relative_to(run).as_posix()] = (
            res['accuracy'], res['failed'],
            [(d['idx'], d['prediction'], d.get('correct')) for d in res['details']])
    return out


def _pred_lines(run):
    return [line for path in (run / 'predictions').rglob('*.jsonl')
            for line in path.read_bytes().split(b'\n')[:-1]]


# ---- names and secrets ------------------------------------------------------
def _tree(root):
    return {os.path.join(d, f) for d, _, fs in os.walk(root) for f in fs}


@pytest.mark.parametrize('abbr', ['../../../../escaped', '/tmp/abs-escaped',
                                  'a' * 300, 'nul\x00byte', '..'])
def test_hostile_abbr_writes_only_inside_the_run_folder(tmp_path, abbr):
    (tmp_path / 'cfg.py').write_text(scripted_config_text(abbr=abbr, n=3,
                                                          dataset_abbr=abbr))
    before = _tree(tmp_path.parent)
    proc = _cli(['cfg.py', '-w', 'out'], tmp_path)
    assert proc.returncode == 0, proc.stderr
    run, = _runs(tmp_path / 'out')
    new = _tree(tmp_path.parent) - before
    assert new and all(p.startswith(str(run) + os.sep) for p in new), new
    assert not os.path.exists('/tmp/abs-escaped')
    shown = abbr[:40]
    assert shown in proc.stdout  # the table shows the abbr as written


def test_no_secret_reaches_disk_or_screen(tmp_path):
    """A dataset-level judge key and credentials inside --api-base."""
    text = scripted_config_text(n=2).replace(
        "eval_cfg=dict(", "eval_cfg=dict(judge_cfg=dict(api_key='sk-judge-"
        "SECRET-0001', openai_api_base='http://bob:PASSWORD-0002@127.0.0.1:9/v1'),")
    (tmp_path / 'cfg.py').write_text(text)
    proc = _cli(['cfg.py', '-w', 'out', '--debug'], tmp_path)
    assert proc.returncode == 0, proc.stderr
    (tmp_path / 'hf.py').write_text(text.replace(
        "type='scripted_model.ScriptedModel'", "type='HuggingFacewithChatTemplate', "
        "path='embedded://smollm2-135m-instruct'"))
    down = _cli(['hf.py', '-w', 'out2', '-a', 'openai', '--api-base',
                 'http://alice:PASSWORD-0003@127.0.0.1:9/v1', '--api-key',
                 'sk-cli-SECRET-0004'], tmp_path)
    assert down.returncode == 2
    dumped = down.stdout + down.stderr + proc.stdout + proc.stderr + ''.join(
        p.read_text(errors='replace') for p in tmp_path.rglob('*') if p.is_file()
        and (p.suffix != '.py' or 'configs' in p.parts))
    for secret in ('SECRET-0001', 'PASSWORD-0002', 'PASSWORD-0003', 'SECRET-0004'):
        assert secret not in dumped
    assert '***@127.0.0.1:9' in down.stderr


# ---- exit codes -------------------------------------------------------------
def test_failed_samples_exit_3_after_the_summary(tmp_path):
    (tmp_path / 'cfg.py').write_text(scripted_config_text(n=12, fail_mod=3))
    proc = _cli(['cfg.py', '-w', 'out'], tmp_path)
    assert proc.returncode == 3, proc.stderr
    assert 'accuracy' in proc.stdout and 'failed' in proc.stdout
    assert 'retry them with -r' in proc.stderr
    (tmp_path / 'ok.py').write_text(scripted_config_text(n=12))
    assert _cli(['ok.py', '-w', 'out_ok'], tmp_path).returncode == 0


# ---- -r and the run lock ----------------------------------------------------
def test_resume_refuses_another_max_out_len_and_finds_the_same_config(tmp_path):
    (tmp_path / 'a.py').write_text(scripted_config_text(n=3))
    (tmp_path / 'b.py').write_text(scripted_config_text(n=3, abbr='other'))
    assert _cli(['a.py', '-w', 'out'], tmp_path).returncode == 0
    first, = _runs(tmp_path / 'out')
    time.sleep(1.1)
    assert _cli(['b.py', '-w', 'out'], tmp_path).returncode == 0
    line = _one_error(_cli(['a.py', '-w', 'out', '-r', '--max-out-len', '99'],
                           tmp_path))
    assert 'max_out_len: 16 in the run, 99 now' in line
    resumed = _cli(['a.py', '-w', 'out', '-r'], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert f'run folder: {os.path.join("out", first.name)}' in resumed.stderr
    assert len(_runs(tmp_path / 'out')) == 2


def test_a_second_run_on_a_busy_folder_names_the_first(tmp_path):
    (tmp_path / 'cfg.py').write_text(scripted_config_text(delay=0.3, n=20))
    first = subprocess.Popen([sys.executable, str(REPO / 'run.py'), 'cfg.py',
                              '-w', 'out'], cwd=tmp_path, env=_env(),
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                             text=True)
    try:
        deadline = time.time() + 60
        while time.time() < deadline and not list(
                (tmp_path / 'out').rglob('*.jsonl')):
            time.sleep(0.2)
        line = _one_error(_cli(['cfg.py', '-w', 'out', '-r'], tmp_path))
        assert f'pid {first.pid}' in line
    finally:
        first.wait(timeout=120)
    assert first.returncode == 0
    assert _cli(['cfg.py', '-w', 'out', '-r'], tmp_path).returncode == 0


# ---- kills ------------------------------------------------------------------
def _processes_with(marker):
    found = []
    for pid in os.listdir('/proc'):
        if not pid.isdigit():
            continue
        try:
            with open(f'/proc/{pid}/environ', 'rb') as f:
                if marker.encode() in f.read():
                    found.append(int(pid))
        except OSError:
            pass
    return found


def _two_datasets(tmp_path, delay):
    text = scripted_config_text(delay=delay, n=16)
    (tmp_path / 'cfg.py').write_text(
        text + "datasets.append(dict(datasets[0], abbr='demo-math-b', infer_cfg="
        "dict(datasets[0]['infer_cfg'], prompt_template=dict(type='PromptTemplate',"
        " template='Q: {question}\\nA:'))))\n")


@pytest.fixture(scope='module')
def whole_run(tmp_path_factory):
    """The results of an uninterrupted run, the reference for every kill."""
    tmp = tmp_path_factory.mktemp('whole')
    _two_datasets(tmp, 0.0)
    assert _cli(['cfg.py', '-w', 'out'], tmp).returncode == 0
    return _results(_runs(tmp / 'out')[0])


KILLS = [(sig, workers, []) for workers in (1, 2)
         for sig in (signal.SIGKILL, signal.SIGTERM, signal.SIGINT)] + [
    (signal.SIGKILL, 2, ['--num-shards', '3']),
    (signal.SIGTERM, 1, ['--num-shards', '2'])]


@pytest.mark.parametrize('sig, workers, shards', KILLS)
def test_kill_then_resume_gives_the_uninterrupted_results(tmp_path, whole_run,
                                                          sig, workers, shards):
    _two_datasets(tmp_path, 0.15)
    marker = f'OC_TEST_MARK={uuid.uuid4().hex}'
    key, value = marker.split('=')
    proc = subprocess.Popen(
        [sys.executable, str(REPO / 'run.py'), 'cfg.py', '-w', 'out',
         '--max-num-workers', str(workers), *shards], cwd=tmp_path,
        env=_env({key: value}), stdout=subprocess.PIPE, stderr=subprocess.PIPE,
        text=True)
    deadline = time.time() + 120
    while time.time() < deadline and proc.poll() is None:
        runs = _runs(tmp_path / 'out') if (tmp_path / 'out').exists() else []
        if runs and len(_pred_lines(runs[0])) >= 3:
            break
        time.sleep(0.05)
    os.kill(proc.pid, sig)
    _, stderr = proc.communicate(timeout=30)
    if sig != signal.SIGKILL:
        assert proc.returncode == 130, stderr
        assert 'resume with -r' in stderr
    time.sleep(0.5)  # the kernel delivers the workers' death signal
    assert _processes_with(marker) == []
    run, = _runs(tmp_path / 'out')
    resumed = _cli(['cfg.py', '-w', 'out', '-r', '--max-num-workers',
                    str(workers), *shards], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert _results(run) == whole_run
    for line in _pred_lines(run):  # every line whole after the resume
        json.loads(line)


# ---- the disk and the work dir ----------------------------------------------
@pytest.fixture
def small_disk(tmp_path):
    mount = tmp_path / 'disk'
    mount.mkdir()
    if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'size=256k', 'tmpfs',
                       str(mount)], capture_output=True).returncode:
        pytest.skip('cannot mount a tmpfs here (needs root); CI runs as root')
    yield mount
    subprocess.run(['umount', '-l', str(mount)])


def _fill(disk, leave):
    """Fill the disk but `leave` bytes."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    with open(disk / 'filler', 'wb') as f:
        f.write(b'\0' * max(0, free - leave))


def test_disk_full_mid_run_keeps_what_was_written(tmp_path, small_disk):
    (tmp_path / 'cfg.py').write_text(scripted_config_text())
    _fill(small_disk, 24 * 1024)
    proc = _cli(['cfg.py', '-w', small_disk / 'out'], tmp_path)
    line = _one_error(proc)
    assert 'no space left' in line.lower() and '-r' in line
    run, = _runs(small_disk / 'out')
    kept = [json.loads(l) for l in _pred_lines(run)[:-1]]  # the last may be torn
    assert 0 < len(kept) < 45
    (small_disk / 'filler').unlink()
    resumed = _cli(['cfg.py', '-w', small_disk / 'out', '-r'], tmp_path)
    assert resumed.returncode == 0, resumed.stderr
    assert 'resuming' in resumed.stderr
    res, = _results(run).values()
    assert len(res[2]) == 45 and res[1] == 0
    final = {json.loads(l)['idx']: json.loads(l) for l in _pred_lines(run)}
    assert all(final[r['idx']] == r for r in kept)  # nothing written was lost


def test_disk_full_at_start_is_one_line(tmp_path, small_disk):
    (tmp_path / 'cfg.py').write_text(scripted_config_text(n=2))
    _fill(small_disk, 0)
    line = _one_error(_cli(['cfg.py', '-w', small_disk / 'out'], tmp_path))
    assert 'out' in line


@pytest.mark.parametrize('where', ['file', 'under_file', 'read_only'])
def test_unusable_work_dir_is_one_line(tmp_path, where):
    (tmp_path / 'cfg.py').write_text(scripted_config_text(n=2))
    (tmp_path / 'afile').write_text('x')
    target = {'file': tmp_path / 'afile', 'under_file': tmp_path / 'afile' / 'w',
              'read_only': tmp_path / 'ro'}[where]
    if where == 'read_only':
        target.mkdir()
        if subprocess.run(['mount', '-t', 'tmpfs', '-o', 'ro', 'tmpfs',
                           str(target)], capture_output=True).returncode:
            pytest.skip('cannot mount a read-only tmpfs here (needs root)')
    try:
        line = _one_error(_cli(['cfg.py', '-w', target], tmp_path))
        assert '-w' in line
    finally:
        if where == 'read_only':
            subprocess.run(['umount', '-l', str(target)])


# ---- bad input: one line, exit 2 --------------------------------------------
BAD_CONFIGS = {
    'models_as_dict': ("models = dict(type='HuggingFacewithChatTemplate', "
                       "path='x')\n", 'models: expected a list'),
    'models_as_string': ("models = 'hf_qwen'\n", 'models: expected a list'),
    'batch_size_x': (", batch_size='x'", "models[0].batch_size: expected a "
                     "positive integer, got 'x'"),
    'max_out_len_abc': (", max_out_len='abc'", 'models[0].max_out_len'),
    'negative_max_out_len': (", max_out_len=-4", 'models[0].max_out_len'),
    'negative_max_seq_len': (", max_seq_len=-4", 'models[0].max_seq_len'),
    'generation_kwargs_x': (", generation_kwargs='x'",
                            'models[0].generation_kwargs'),
    'stop_words_5': (", stop_words=5", 'models[0].stop_words'),
    'non_ascii_key': (", key='clé-secrète'", 'models[0].key'),
}


@pytest.mark.parametrize('case', sorted(BAD_CONFIGS))
def test_bad_config_is_one_line(tmp_path, case):
    change, expect = BAD_CONFIGS[case]
    text = scripted_config_text(n=2)
    if change.startswith('models ='):
        text += change
    else:  # extra model fields: duplicates override the defaults
        text = text.replace("max_out_len=16, batch_size=2", '').replace(
            "fail_mod=0,", f"fail_mod=0{change},")
    (tmp_path / 'cfg.py').write_text(text)
    assert expect in _one_error(_cli(['cfg.py', '-w', 'out', '--dry-run'],
                                     tmp_path))


def test_dataset_without_type_and_duplicate_abbrs(tmp_path):
    text = scripted_config_text(n=2)
    (tmp_path / 'a.py').write_text(text + "del datasets[0]['type']\n")
    assert 'datasets[0] has no type' in _one_error(
        _cli(['a.py', '--dry-run'], tmp_path))
    (tmp_path / 'b.py').write_text(text + "models.append(dict(models[0]))\n")
    assert "abbr 'scripted' is used twice" in _one_error(
        _cli(['b.py', '--dry-run'], tmp_path))


def test_non_utf8_data_file_is_one_line(tmp_path):
    data = tmp_path / 'data'
    data.mkdir()
    (data / 'test.jsonl').write_bytes(b'{"question": "caf\xe9", "answer": "1"}\n')
    (tmp_path / 'cfg.py').write_text(scripted_config_text(data_path=str(data)))
    assert 'not UTF-8' in _one_error(_cli(['cfg.py', '-w', 'out'], tmp_path))


@pytest.mark.parametrize('flags, expect', [
    (['--max-out-len', '-1'], '--max-out-len'),
    (['--batch-size', '0'], '--batch-size'),
    (['--max-num-workers', '0'], '--max-num-workers'),
    (['--test-range', '5'], '--test-range'),
    (['-a', 'openai', '--api-key', 'ключ'], '--api-key'),
])
def test_bad_cli_values_are_one_line(tmp_path, flags, expect):
    (tmp_path / 'cfg.py').write_text(scripted_config_text(n=2))
    assert expect in _one_error(_cli(['cfg.py', '--dry-run', *flags], tmp_path))


def test_import_typo_and_unknown_api_field(tmp_path):
    """Two of the tracebacks of the issue: a mistyped import in a config
    (also under --dry-run), and a field OpenAISDK does not take."""
    (tmp_path / 'typo.py').write_text(
        'from opencompass.models import HuggingFacewithChatTemplat\n'
        "models = [dict(type=HuggingFacewithChatTemplat, path='x')]\n")
    for extra in ([], ['--dry-run']):
        line = _one_error(_cli(['typo.py', *extra], tmp_path))
        assert 'typo.py line 1' in line and 'HuggingFacewithChatTemplate' in line
    text = scripted_config_text(n=2).replace(
        "type='scripted_model.ScriptedModel', abbr='scripted', delay=0.0,",
        "type='OpenAISDK', abbr='api', path='m', key='EMPTY', "
        "openai_api_base='http://127.0.0.1:9/v1', rpm_verbose=True, foo_bar=3,")
    text = text.replace("fail_mod=0, crash_once_file=None,", '')
    (tmp_path / 'api.py').write_text(text)
    proc = _cli(['api.py', '-w', 'out'], tmp_path)
    line = _one_error(proc)
    assert '127.0.0.1:9' in line  # got as far as the server: no TypeError
    assert 'does not use foo_bar' in proc.stderr
