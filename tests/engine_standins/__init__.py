"""Stand-ins for the inference engines (vLLM, LMDeploy, SGLang cannot run
without a GPU), in one place.

Each stand-in records what the project passes and raises TypeError on any
keyword the real API does not accept. The accepted names come only from the
contracts extracted from the pinned releases' source (contracts/*.json,
written by extract_contracts.py, read through contract.py); the engine
behaviours a stand-in models are read in that source too, and each module
cites the file. `install(monkeypatch, name)` puts one into `sys.modules` for a
single test. It is a package so the tests can
load it by file path under the name `engine_standins` (no sys.path change; see
tests/models/test_engine_models.py).
"""
import importlib
import sys

BOS_ID = 1


def check_kwargs(api, kwargs, accepted):
    """Fail like Python does on a keyword the real API does not take."""
    unknown = sorted(set(kwargs) - set(accepted))
    if unknown:
        raise TypeError(f'{api}() got unexpected keyword argument(s) {unknown}')


class FakeTokenizer:
    """One token per whitespace-separated word; a visible chat template.

    Stands in for a transformers tokenizer (encode/decode/apply_chat_template)
    so prompt rendering, truncation and token counts are checkable.
    """

    bos_token = '<s>'
    vocab = {bos_token: BOS_ID}  # shared: every instance is "the same" tokenizer

    def __init__(self, name='fake'):
        self.name = name

    def _id(self, word):
        return self.vocab.setdefault(word, len(self.vocab) + 10)

    def encode(self, text, add_special_tokens=True):
        ids = [self._id(w) for w in text.split()]
        return [BOS_ID] + ids if add_special_tokens else ids

    def decode(self, ids, skip_special_tokens=False):
        words = {i: w for w, i in self.vocab.items()}
        return ' '.join(words[i] for i in ids
                        if not (skip_special_tokens and i == BOS_ID))

    def apply_chat_template(self, messages, tokenize=False,
                            add_generation_prompt=False, **kwargs):
        check_kwargs('apply_chat_template', kwargs, ())
        assert tokenize is False, 'the project renders text, then tokenizes'
        text = ' '.join(f"<|{m['role']}|> {m['content']}" for m in messages)
        return f'{self.bos_token} {text}' + (' <|assistant|>'
                                             if add_generation_prompt else '')


def default_reply(prompt_text):
    """What a stand-in engine generates: the prompt's last word, then more."""
    last = prompt_text.split()[-1] if prompt_text.split() else ''
    return f'answer-to-{last} and more words'


def install(monkeypatch, name):
    """Install stand-in `name` ('vllm', 'lmdeploy', 'sglang') for one test and
    return it (fresh call records)."""
    module = importlib.import_module(f'engine_standins.fake_{name}')
    module.reset()
    for mod_name, mod in module.modules().items():
        monkeypatch.setitem(sys.modules, mod_name, mod)
    return module
