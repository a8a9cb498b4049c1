"""Bad input gets one clear line and exit code 2, never a traceback; --dry-run
never imports torch."""
import subprocess
import sys

import pytest


def _one_line_error(proc):
    assert proc.returncode == 2, proc.stderr
    assert 'Traceback' not in proc.stderr
    errors = [l for l in proc.stderr.splitlines() if l.startswith('error: ')]
    assert len(errors) == 1, proc.stderr
    return errors[0]


def test_dry_run_never_imports_torch(repo_root):
    code = ('import sys; from opencompass.cli.main import main; '
            "rc = main(['configs/eval_demo.py', '--dry-run']); "
            "print('TORCH', 'torch' in sys.modules, 'RC', rc)")
    proc = subprocess.run([sys.executable, '-c', code], cwd=repo_root,
                          capture_output=True, text=True, timeout=120)
    assert 'TORCH False RC 0' in proc.stdout, proc.stderr
    assert 'smollm2-135m-instruct-hf / demo-math' in proc.stdout


def test_missing_config(cli):
    assert 'does not exist' in _one_line_error(cli('nope.py'))


def test_malformed_config(cli, tmp_path):
    (tmp_path / 'bad.py').write_text('models = [\n')
    assert 'cannot be read' in _one_line_error(cli(tmp_path / 'bad.py'))


def test_unknown_dataset_name_lists_close_matches(cli, repo_root):
    line = _one_line_error(cli('--hf-path', 'embedded://smollm2-135m-instruct',
                               '--datasets', 'gsm8k_gn', '--dry-run'))
    assert 'gsm8k_gen' in line


def _config(tmp_path, model, dataset_path='demo_math'):
    text = f'''
from mmengine.config import read_base
with read_base():
    from opencompass.configs.datasets.demo_math.demo_math_gen import demo_math_datasets
datasets = demo_math_datasets
datasets[0]['path'] = {dataset_path!r}
models = [{model}]
'''
    path = tmp_path / 'cfg.py'
    path.write_text(text)
    return path


@pytest.mark.parametrize('model, expect', [
    ("dict(type='NoSuchModel', path='x', abbr='m')", 'unknown model type'),
    ("dict(type='HuggingFacewithChatTemplate', path='/no/such/dir', abbr='m')",
     'is not a folder'),
    ("dict(type='HuggingFacewithChatTemplate', path='embedded://nope', abbr='m')",
     'unknown embedded model'),
])
def test_bad_models(cli, tmp_path, repo_root, model, expect):
    cfg = _config(tmp_path, model)
    (tmp_path / 'configs').symlink_to(repo_root / 'configs')
    assert expect in _one_line_error(cli(cfg))


def test_missing_data_path(cli, tmp_path, repo_root):
    cfg = _config(tmp_path, "dict(type='HuggingFacewithChatTemplate', "
                  "path='embedded://smollm2-135m-instruct', abbr='m')",
                  dataset_path=str(tmp_path / 'no_data'))
    (tmp_path / 'configs').symlink_to(repo_root / 'configs')
    line = _one_line_error(cli(cfg))
    assert 'no_data' in line


def test_unknown_backend(cli, repo_root):
    line = _one_line_error(cli(repo_root / 'configs' / 'eval_demo.py', '-a',
                               'tensorrt', '--dry-run'))
    assert 'vllm' in line and 'openai' in line


def test_missing_engine_fails_before_any_inference(cli, tmp_path, repo_root):
    """A comparison with an engine that is not installed stops at once, not
    after the first backend's run."""
    line = _one_line_error(cli(repo_root / 'configs' / 'eval_demo.py', '-a',
                               'hf,vllm', '-w', 'w'))
    assert 'pip install -r requirements/vllm.txt' in line
    assert not (tmp_path / 'w').exists()


def test_server_down_is_one_line(cli, repo_root):
    line = _one_line_error(cli(repo_root / 'configs' / 'eval_demo.py', '-a',
                               'openai', '--api-base', 'http://127.0.0.1:9/v1'))
    assert '127.0.0.1:9' in line and '--api-base' in line
