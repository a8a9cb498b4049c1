"""The interface every backend implements, and the pieces they share.

`generate(inputs, max_out_len) -> list[str]` is the OpenCompass contract.
`generate_iter` is what the inferencer calls: it yields ``(index, Generation)``
as results arrive, so predictions are written as soon as they exist and a failing
sample (an API error) is recorded without losing the others.
"""
import dataclasses
import importlib.util
import logging
import sys
from typing import Iterator, List, Optional

from opencompass.utils.prompt import flatten, to_messages

logger = logging.getLogger(__name__)


@dataclasses.dataclass
class Generation:
    """One sample's result: its text, its output token count, or its error."""

    text: str = ''
    out_tokens: Optional[int] = None
    error: Optional[str] = None


def cut_at_stop(text, stop_words):
    """Cut `text` at the first occurrence of any stop word."""
    cut = len(text)
    for word in stop_words or ():
        if word:
            pos = text.find(word)
            if pos != -1:
                cut = min(cut, pos)
    return text[:cut]


def fit_to_context(ids, max_out_len, max_seq_len):
    """`(ids, max_new)`: the prompt cut from the left and its output cap, the
    one rule every backend uses to fit prompt + output into the context.

    The output may claim at most half of the context (a larger max_out_len
    would leave no room for the prompt); the prompt keeps the rest, and the
    output gets what the prompt leaves, up to max_out_len. So the prompt is
    always shorter than the context and prompt + output never exceeds it:
    vLLM and LMDeploy refuse a prompt of >= context tokens, SGLang one whose
    prompt + max_new_tokens exceeds the context.
    """
    if not max_seq_len or max_seq_len < 2:
        return ids, max_out_len
    max_out_len = max(1, int(max_out_len or 1))
    budget = max_seq_len - min(max_out_len, max_seq_len // 2)
    if len(ids) > budget:
        ids = ids[len(ids) - budget:]
    return ids, min(max_out_len, max_seq_len - len(ids))


def sort_by_length(prompts):
    """Indices of `prompts` longest first: batches of similar length pad less,
    and the slowest batch runs first so the progress bar's estimate is honest."""
    return sorted(range(len(prompts)), key=lambda i: -len(str(prompts[i])))


class BaseModel:
    """A model the evaluator can query.

    Subclasses set `is_chat` (prompts become chat messages) or not (prompts are
    flattened with `meta_template`), and implement `generate`.
    """

    is_api = False
    is_chat = False
    # (module to import, requirements/<name>.txt) of the engine, if any.
    engine = None

    @classmethod
    def check_engine(cls):
        """Fail before any work is done when this backend's engine is missing
        (a comparison would otherwise stop after the first backend's run)."""
        if (cls.engine and cls.engine[0] not in sys.modules
                and importlib.util.find_spec(cls.engine[0]) is None):
            from opencompass.errors import EngineNotInstalledError
            raise EngineNotInstalledError(
                f'{cls.__name__} needs the {cls.engine[0]} package, which is not '
                f'installed; install it with: pip install -r requirements/'
                f'{cls.engine[1]}.txt')

    def __init__(self, path, max_seq_len=2048, meta_template=None,
                 generation_kwargs=None, stop_words=None, end_str=None,
                 tokenizer_only=False):
        self.path = path
        self.max_seq_len = max_seq_len
        self.meta_template = meta_template
        self.generation_kwargs = dict(generation_kwargs or {})
        self.stop_words = list(stop_words or [])
        self.end_str = end_str
        self.tokenizer_only = tokenizer_only
        self.truncated = 0  # prompts cut from the left to fit max_seq_len

    # ---- prompt rendering -------------------------------------------------
    def to_text(self, prompt):
        """A rendered prompt as the text a base model sees."""
        return flatten(prompt, self.meta_template)

    def to_messages(self, prompt):
        return to_messages(prompt)

    def postprocess(self, text):
        """Cut the stop words and `end_str` from a generated text."""
        text = cut_at_stop(text, self.stop_words)
        if self.end_str:
            text = text.split(self.end_str)[0]
        return text

    # ---- the contract -----------------------------------------------------
    def generate(self, inputs, max_out_len, **kwargs) -> List[str]:
        raise NotImplementedError

    def generate_batch(self, inputs, max_out_len, **kwargs) -> List[Generation]:
        """Like `generate`, with token counts where the backend knows them."""
        return [Generation(text=t)
                for t in self.generate(inputs, max_out_len, **kwargs)]

    def generate_iter(self, inputs, max_out_len, batch_size=1,
                      **kwargs) -> Iterator[tuple]:
        """Yield ``(index, Generation)`` for every input, batch by batch.

        Inputs are sorted by length so a batch pads little; a batch that raises
        yields an error Generation per sample instead of ending the run only
        for API models (`is_api`); a local engine's error ends the task.
        """
        order = sort_by_length(inputs)
        for start in range(0, len(order), max(1, batch_size)):
            idxs = order[start:start + batch_size]
            results = self.generate_batch([inputs[i] for i in idxs],
                                          max_out_len, **kwargs)
            yield from zip(idxs, results)

    def get_token_len(self, prompt) -> int:
        raise NotImplementedError

    def get_ppl(self, inputs, mask_length=None) -> List[float]:
        from opencompass.errors import ConfigError
        raise ConfigError(
            f'{type(self).__name__} cannot score perplexity (a PPLInferencer '
            'dataset); use a _gen dataset config, or -a hf, vllm or openai')

    def get_ppl_groups(self, groups, batch_size=None) -> List[List[float]]:
        """`get_ppl` of each group of texts (one question's options). Backends
        that can share a group's common prompt override this."""
        flat = [text for group in groups for text in group]
        scores, out = self.get_ppl(flat), []
        for group in groups:
            out.append(scores[:len(group)])
            scores = scores[len(group):]
        return out

    def close(self):
        """Release the engine (GPU memory, worker processes, connections)."""

    def report_truncation(self):
        if self.truncated:
            logger.warning(
                '%d prompt(s) were longer than max_seq_len=%s and were cut from the '
                'left; raise max_seq_len to keep them whole', self.truncated,
                self.max_seq_len)
        self.truncated = 0
