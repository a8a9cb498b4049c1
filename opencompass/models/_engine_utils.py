"""What the local engine backends (vLLM, LMDeploy, SGLang) share.

Kept apart from the engine modules so each of those holds only what is
specific to its engine. Nothing here imports an engine, torch or transformers
at module import.
"""
import importlib
import json
import logging
import os

from opencompass.errors import EngineNotInstalledError
from opencompass.models.base import BaseModel, cut_at_stop, fit_to_context

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


# config.json keys that bound a checkpoint's context, as vLLM reads them
# (vllm/transformers_utils/model_arch_config_convertor.py: the smallest wins;
# SGLang reads a subset of them).
_CONTEXT_KEYS = ('max_position_embeddings', 'n_positions', 'max_seq_len',
                 'seq_length', 'model_max_length', 'max_target_positions',
                 'max_sequence_length', 'max_seq_length', 'seq_len')


def hub_file(repo, filename, revision=None):
    """A file of a hub repository (downloaded if not cached, as the engine is
    about to download the repository anyway), or None."""
    try:
        from huggingface_hub import hf_hub_download
        return hf_hub_download(repo, filename, revision=revision)
    except Exception:  # noqa: BLE001 - unknown: the caller does without it
        return None


def read_checkpoint_json(path, filename, revision=None):
    """`filename` (config.json, adapter_config.json) of a local or hub
    checkpoint as a dict, or None when it cannot be read."""
    path = local_path(path)
    file = (os.path.join(path, filename) if os.path.isdir(path) else
            hub_file(path, filename, revision))
    try:
        with open(file, encoding='utf-8') as f:
            data = json.load(f)
    except (OSError, TypeError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def checkpoint_context_length(path, revision=None):
    """The longest context the checkpoint allows (the smallest of its
    config.json length keys, text_config included), or None if unknown.

    RoPE scaling (YaRN, dynamic, ...) lets the engines go past those keys by
    rules of their own: such a checkpoint's limit is left to the engine."""
    config = read_checkpoint_json(path, 'config.json', revision) if path else None
    if config is None:
        return None
    configs = (config, config.get('text_config') or {})
    if any((c.get('rope_scaling') or {}).get('factor', 1) != 1
           for c in configs):
        return None
    values = [c[k] for c in configs for k in _CONTEXT_KEYS
              if isinstance(c.get(k), int) and c[k] > 0]
    return min(values) if values else None


def clamp_context(model, requested, engine_key, revision=None):
    """`requested` (the engine's context length option), lowered to the
    checkpoint's own limit with a warning naming both: vLLM and SGLang refuse
    to start with a longer one."""
    limit = checkpoint_context_length(model.path, revision)
    if requested and limit and requested > limit:
        logger.warning('%s: %s=%d exceeds the checkpoint\'s limit of %d '
                       'tokens (its config.json); using %d', model.path,
                       engine_key, requested, limit, limit)
        requested = limit
    if limit and model.max_seq_len and model.max_seq_len > limit:
        model.max_seq_len = limit
    return requested


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
        """`(ids, max_new)` with prompt + output inside max_seq_len, cut from
        the left as every backend does (base.fit_to_context); an engine would
        reject the whole batch instead."""
        kept, max_new = fit_to_context(ids, max_out_len, self.max_seq_len)
        if len(kept) < len(ids):
            self.truncated += 1
        return kept, max_new

    def prompt_ids(self, inputs, max_out_len):
        """[(ids, max_new)] for each prompt."""
        return [self.fit(self.encode(p), max_out_len) for p in inputs]

    def stops(self, kwargs):
        """The config's stop words plus the inferencer's `stopping_criteria`."""
        extra = kwargs.get('stopping_criteria') or []
        return list(dict.fromkeys(w for w in [*self.stop_words, *extra] if w))

    def postprocess(self, text, stops=None):
        """Cut at every stop (the dataset's too) and end_str, as the HF
        backend does: an engine may not stop at all of them (LMDeploy ignores
        stop words longer than one token)."""
        text = cut_at_stop(text, self.stop_words if stops is None else stops)
        if self.end_str:
            text = text.split(self.end_str)[0]
        return text

    def get_token_len(self, prompt):
        return len(self.encode(prompt))

    def generate(self, inputs, max_out_len, **kwargs):
        """Texts in input order; a failed sample is '' (its error logged)."""
        gens = self.generate_batch(inputs, max_out_len, **kwargs)
        failed = [g.error for g in gens if g.error]
        if failed:
            logger.warning('%d of %d samples failed; first error: %s',
                           len(failed), len(gens), failed[0])
        return [g.text for g in gens]
