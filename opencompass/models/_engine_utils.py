"""What the local engine backends (vLLM, LMDeploy, SGLang) share.

Kept apart from the engine modules so each of those holds only what is
specific to its engine. Nothing here imports an engine, torch or transformers
at module import.
"""
import importlib
import logging

from opencompass.errors import EngineNotInstalledError
from opencompass.models.base import BaseModel

logger = logging.getLogger(__name__)


def import_engine(module, requirement):
    """Import an engine (or client) module at first use; a missing one is a
    user error that says the exact install command. Every backend uses this."""
    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise EngineNotInstalledError(
            f'the {module} package cannot be imported ({err}); install it '
            f'with: pip install -r requirements/{requirement}.txt') from err


def local_path(path):
    """An HF path an engine can load: `embedded://` names become their cached
    checkpoint directory; anything else is returned unchanged."""
    from opencompass.utils import embedded
    return embedded.resolve_model_path(path) if path else path


def load_hf_tokenizer(path, **kwargs):
    """A transformers tokenizer for chat templates and token counts (the
    engines that do not expose theirs)."""
    from transformers import AutoTokenizer
    return AutoTokenizer.from_pretrained(local_path(path), **kwargs)


class EngineModel(BaseModel):
    """Prompt rendering, left truncation and stop words, once for all engines.

    Subclasses set `self.tokenizer` (a transformers-like tokenizer) and
    implement `generate_batch`.
    """

    tokenizer = None

    def render(self, prompt):
        """The text the engine sees: the meta_template flattening for a base
        model, the tokenizer's chat template for a chat model."""
        if self.is_chat:
            return self.tokenizer.apply_chat_template(
                self.to_messages(prompt), tokenize=False,
                add_generation_prompt=True)
        return self.to_text(prompt)

    def encode(self, prompt):
        return self.encode_text(self.render(prompt))

    def encode_text(self, text):
        """Token ids of a rendered prompt. Chat text already holds its special
        tokens, so none are added (else BOS is doubled, as vLLM does on text)."""
        return list(self.tokenizer.encode(text,
                                          add_special_tokens=not self.is_chat))

    def fit(self, ids, max_out_len):
        """Cut ids from the left so prompt + output fit max_seq_len, as the HF
        backend does; an engine would reject the whole batch instead."""
        budget = (self.max_seq_len or 0) - max_out_len
        if budget <= 0 or len(ids) <= budget:
            return ids
        self.truncated += 1
        return ids[-budget:]

    def prompt_ids(self, inputs, max_out_len):
        return [self.fit(self.encode(p), max_out_len) for p in inputs]

    def stops(self, kwargs):
        """The config's stop words plus the inferencer's `stopping_criteria`."""
        extra = kwargs.get('stopping_criteria') or []
        return list(dict.fromkeys(w for w in [*self.stop_words, *extra] if w))

    def get_token_len(self, prompt):
        return len(self.encode(prompt))

    def generate(self, inputs, max_out_len, **kwargs):
        return [g.text for g in self.generate_batch(inputs, max_out_len,
                                                    **kwargs)]
