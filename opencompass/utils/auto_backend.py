"""`-a auto`: the fastest backend that is installed and usable here.

Engines in order of preference (vLLM, SGLang, LMDeploy) need their package and
a GPU; without both, HF transformers runs. The reason is said in one line.
"""
import importlib.util

PREFERENCE = (('vllm', 'vllm'), ('sglang', 'sglang'), ('lmdeploy', 'lmdeploy'))


def _gpu_count():
    try:
        import torch
    except ImportError:
        return 0
    return torch.cuda.device_count() if torch.cuda.is_available() else 0


def choose_backend():
    """(backend, reason)."""
    installed = [b for b, module in PREFERENCE
                 if importlib.util.find_spec(module) is not None]
    if not installed:
        return 'hf', ('none of vllm, sglang, lmdeploy is installed; '
                      'install one with pip install -r requirements/vllm.txt')
    gpus = _gpu_count()
    if gpus:
        return installed[0], (f'{installed[0]} is installed and {gpus} GPU(s) '
                              'found')
    return 'hf', f'{", ".join(installed)} installed but no GPU found'
