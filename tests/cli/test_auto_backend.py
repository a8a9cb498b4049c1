"""`-a auto` picks the fastest usable engine and says why; a comma list of
backends converts the models once per backend."""
import subprocess
import sys

from opencompass.cli.main import resolve_backends
from opencompass.utils import auto_backend


def test_auto_on_this_machine_picks_hf_and_says_why(repo_root):
    proc = subprocess.run([sys.executable, 'run.py', 'configs/eval_demo.py', '-a',
                           'auto', '--dry-run'], cwd=repo_root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    first = proc.stdout.splitlines()[0]
    assert first.startswith('-a auto: using hf (') and 'installed' in first
    assert 'smollm2-135m-instruct-hf / demo-math' in proc.stdout


def test_auto_prefers_vllm_with_a_gpu(monkeypatch):
    monkeypatch.setattr(auto_backend.importlib.util, 'find_spec',
                        lambda name: object() if name in ('sglang', 'vllm') else None)
    monkeypatch.setattr(auto_backend, '_gpu_count', lambda: 2)
    assert auto_backend.choose_backend()[0] == 'vllm'
    monkeypatch.setattr(auto_backend, '_gpu_count', lambda: 0)
    backend, why = auto_backend.choose_backend()
    assert backend == 'hf' and 'no GPU' in why and 'vllm' in why


def test_comma_list_keeps_order_and_drops_repeats(capsys):
    assert resolve_backends('hf, openai,hf') == ['hf', 'openai']
    assert resolve_backends(None) == ['hf']


def test_dry_run_of_a_comparison_lists_both_backends(repo_root):
    proc = subprocess.run([sys.executable, 'run.py', 'configs/eval_demo.py', '-a',
                           'hf,vllm', '--dry-run'], cwd=repo_root,
                          capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert 'smollm2-135m-instruct-hf / demo-math' in proc.stdout
    assert 'smollm2-135m-instruct-vllm / demo-math' in proc.stdout


def test_server_type_flag_reaches_the_openai_dict(repo_root):
    proc = subprocess.run([sys.executable, 'run.py', 'configs/eval_demo.py', '-a',
                           'openai', '--server-type', 'llama.cpp', '--dry-run'],
                          cwd=repo_root, capture_output=True, text=True, timeout=120)
    assert proc.returncode == 0, proc.stderr
    assert '"server_type": "llama.cpp"' in proc.stdout
