"""HuggingFace transformers models: the default backend and the reference.

torch and transformers are imported when a model is built, never at module import,
so configs that name these classes load (and `--dry-run` runs) without torch.

Generation is batched with left padding over prompts sorted by length; a row that
has finished (EOS or a stop word, checked as tokens arrive) leaves the batch, so
no compute is spent decoding it further (see `_decode.py`).
"""
import logging
import os

from opencompass.errors import ModelPathError, OpenCompassError
from opencompass.models.base import (BaseModel, Generation, cut_at_stop,
                                     fit_to_context, sort_by_length)
from opencompass.utils.embedded import resolve_model_path
from opencompass.utils.fastchat_templates import fastchat_format, fastchat_name

logger = logging.getLogger(__name__)

def _check_path(path):
    """A path that is neither a folder nor a plausible hub id is a typo."""
    if os.path.isdir(path):
        return
    looks_local = path.startswith(('/', './', '../', '~')) or os.sep * 2 in path
    if looks_local or path.count('/') != 1:
        raise ModelPathError(
            f'model path {path!r} is not a folder; give a local HF checkpoint '
            'folder, a hub id like Qwen/Qwen2.5-0.5B-Instruct, or '
            'embedded://smollm2-135m-instruct')


def _load_failed(path, err):
    reason = ' '.join(str(err).split())[:200]
    return ModelPathError(
        f'cannot load model {path!r} ({reason}); check the path, or download the '
        'checkpoint and point path= at its folder')


class HuggingFaceBaseModel(BaseModel):
    """A causal LM used as a base model: prompts are flattened text."""

    # Perplexity scoring: at most this many (rows x padded length) tokens per
    # forward pass, which bounds the logits held in memory.
    ppl_max_tokens = 2048

    def __init__(self, path, model_kwargs=None, tokenizer_path=None,
                 tokenizer_kwargs=None, peft_path=None, tokenizer_only=False,
                 generation_kwargs=None, max_seq_len=None, meta_template=None,
                 pad_token_id=None, stop_words=None, end_str=None,
                 drop_middle=False, fastchat_template=None,
                 use_fastchat_template=False, **other_kwargs):
        if other_kwargs:
            logger.warning('%s ignores unused fields: %s', type(self).__name__,
                           ', '.join(sorted(other_kwargs)))
        path = resolve_model_path(path)
        _check_path(path)
        fastchat = fastchat_name(dict(fastchat_template=fastchat_template,
                                      use_fastchat_template=use_fastchat_template))
        if fastchat:  # a FastChat format: rendered as its meta_template
            if meta_template:
                raise OpenCompassError(f'{path}: fastchat_template={fastchat!r} '
                                       'and a meta_template; keep one of the two')
            fmt = fastchat_format(fastchat)
            meta_template = fmt['meta_template']
            stop_words = [*(stop_words or []), *fmt['stop_words']]
            self.is_chat = False
        super().__init__(path, max_seq_len=max_seq_len, meta_template=meta_template,
                         generation_kwargs=generation_kwargs, stop_words=stop_words,
                         end_str=end_str, tokenizer_only=tokenizer_only)
        self.tokenizer_path = resolve_model_path(tokenizer_path or path)
        self.tokenizer = self._load_tokenizer(tokenizer_kwargs or {}, pad_token_id)
        self.model = None
        if not tokenizer_only:
            self.model = self._load_model(dict(model_kwargs or {}), peft_path)
        if self.max_seq_len is None:
            self.max_seq_len = self._context_length()

    # ---- loading ----------------------------------------------------------
    def _load_tokenizer(self, kwargs, pad_token_id):
        from transformers import AutoTokenizer
        kwargs = {'trust_remote_code': True, **kwargs}
        try:
            tok = AutoTokenizer.from_pretrained(self.tokenizer_path, **kwargs)
        except (OSError, ValueError) as err:
            raise _load_failed(self.tokenizer_path, err) from None
        tok.padding_side = 'left'
        tok.truncation_side = 'left'
        if pad_token_id is not None:
            tok.pad_token_id = pad_token_id
        elif tok.pad_token_id is None:
            tok.pad_token = tok.eos_token
        return tok

    def _load_model(self, kwargs, peft_path):
        import torch
        from transformers import AutoModelForCausalLM
        device = 'cuda' if torch.cuda.is_available() else 'cpu'
        kwargs.setdefault('trust_remote_code', True)
        dtype = kwargs.pop('torch_dtype', kwargs.pop('dtype', None))
        if dtype in (None, 'auto'):
            dtype = torch.bfloat16 if device == 'cuda' else torch.float32
        elif isinstance(dtype, str):
            dtype = getattr(torch, dtype.replace('torch.', ''))
        if device == 'cuda':
            kwargs.setdefault('device_map', 'auto')
        try:
            model = AutoModelForCausalLM.from_pretrained(self.path, dtype=dtype,
                                                         **kwargs)
        except (OSError, ValueError) as err:
            raise _load_failed(self.path, err) from None
        if peft_path:
            from peft import PeftModel
            model = PeftModel.from_pretrained(model, peft_path)
        if device == 'cpu':
            model.to('cpu')
        return model.eval()

    def _context_length(self):
        cfg = getattr(self.model, 'config', None)
        for attr in ('max_position_embeddings', 'seq_length', 'n_positions'):
            value = getattr(cfg, attr, None)
            if isinstance(value, int) and value > 0:
                return value
        return 2048

    @property
    def device(self):
        return next(self.model.parameters()).device

    # ---- prompts ----------------------------------------------------------
    def render(self, prompt):
        """The text this model sees for a rendered prompt."""
        return self.to_text(prompt)

    def encode(self, prompt):
        """Token ids of a prompt, cut from the left to fit max_seq_len."""
        ids, _ = self.fit(prompt, 0)
        return ids

    def fit(self, prompt, max_new):
        """`(ids, max_new)` with prompt + output inside max_seq_len, by the
        rule every backend uses (base.fit_to_context); max_new=0 only fits the
        prompt itself (scoring)."""
        text = self.render(prompt)
        ids = self.tokenizer(text, add_special_tokens=not self.is_chat)['input_ids']
        if max_new:
            kept, max_new = fit_to_context(ids, max_new, self.max_seq_len)
        else:
            kept = ids[-self.max_seq_len:] if self.max_seq_len else ids
        if len(kept) < len(ids):
            self.truncated += 1
        return kept, max_new

    def get_token_len(self, prompt):
        text = self.render(prompt)
        return len(self.tokenizer(text, add_special_tokens=not self.is_chat)
                   ['input_ids'])

    def stop_strings(self, extra=()):
        return [s for s in [*self.stop_words, *extra] if s]

    def eos_ids(self):
        ids = set()
        for src in (getattr(self.model, 'generation_config', None),
                    self.tokenizer):
            value = getattr(src, 'eos_token_id', None)
            ids.update(value if isinstance(value, (list, tuple)) else [value])
        return {i for i in ids if i is not None}

    # ---- generation -------------------------------------------------------
    def generate(self, inputs, max_out_len, **kwargs):
        return [g.text for g in self.generate_batch(inputs, max_out_len, **kwargs)]

    def generate_iter(self, inputs, max_out_len, batch_size=1,
                      stopping_criteria=(), **kwargs):
        """Greedy decoding streams with continuous batching (results in
        completion order); other decoding goes batch by batch."""
        from opencompass.models import _decode
        gen_kwargs = {**self.generation_kwargs, **kwargs}
        if not (_decode.is_greedy(gen_kwargs)
                and _decode.supports_streaming(self.model)):
            yield from super().generate_iter(inputs, max_out_len, batch_size,
                                             stopping_criteria=stopping_criteria,
                                             **kwargs)
            return
        order = sort_by_length(inputs)
        stops = self.stop_strings(stopping_criteria)
        max_new = int(gen_kwargs.get('max_new_tokens') or max_out_len)
        ids, caps = zip(*[self.fit(inputs[i], max_new) for i in order])
        stream = _decode.greedy_stream(
            self.model, self.tokenizer, list(ids), list(caps),
            _decode.eos_set(self, gen_kwargs), stops, max(1, batch_size))
        for j, ids in stream:
            text = self.tokenizer.decode(ids, skip_special_tokens=True)
            yield order[j], Generation(text=self.postprocess(text, stops),
                                       out_tokens=len(ids))

    def generate_batch(self, inputs, max_out_len, stopping_criteria=(), **kwargs):
        from opencompass.models._decode import decode_batch
        stops = self.stop_strings(stopping_criteria)
        gen_kwargs = {**self.generation_kwargs, **kwargs}
        max_new = int(gen_kwargs.get('max_new_tokens') or max_out_len)
        ids, caps = zip(*[self.fit(p, max_new) for p in inputs])
        outs = decode_batch(self, list(ids), list(caps), stops, gen_kwargs)
        return [Generation(text=self.postprocess(text, stops), out_tokens=n)
                for text, n in outs]

    def postprocess(self, text, stops=None):
        text = cut_at_stop(text, self.stop_words if stops is None else stops)
        if self.end_str:
            text = text.split(self.end_str)[0]
        return text

    # ---- scoring ----------------------------------------------------------
    def get_ppl(self, inputs, mask_length=None):
        """Mean token NLL of each text; `mask_length[i]` leading tokens (the
        context) are left out of the mean. Without mask_length the texts are
        scored as one group, their common prefix read once (see _ppl)."""
        if mask_length is None:
            return self.get_ppl_groups([list(inputs)])[0]
        import torch
        texts = [self.render(p) for p in inputs]
        enc = self.tokenizer(texts, return_tensors='pt', padding=True,
                             truncation=True, max_length=self.max_seq_len)
        enc = {k: v.to(self.device) for k, v in enc.items()}
        with torch.no_grad():
            logits = self.model(**enc).logits[:, :-1].float()
        labels = enc['input_ids'][:, 1:]
        mask = enc['attention_mask'][:, 1:].clone()
        pad = (enc['attention_mask'] == 0).sum(1)  # left padding
        for i, n in enumerate(mask_length):
            # the first real token has no context of its own: never scored
            mask[i, :max(0, int(pad[i]) + max(n, 1) - 1)] = 0
        nll = torch.nn.functional.cross_entropy(
            logits.transpose(1, 2), labels, reduction='none') * mask
        return (nll.sum(1) / mask.sum(1).clamp(min=1)).tolist()

    def get_ppl_groups(self, groups, batch_size=None):
        """Mean token NLL of each option of each group (one question's
        options): each group's shared prompt is read once, and batches are
        packed by length (see _ppl)."""
        from opencompass.models._decode import supports_streaming
        from opencompass.models._ppl import grouped_ppl
        if not supports_streaming(self.model):  # a cache we cannot re-index
            return [self.get_ppl(g, mask_length=[0] * len(g)) for g in groups]
        ids = [[self.encode(p) for p in group] for group in groups]
        return grouped_ppl(self.model, ids, self.tokenizer.pad_token_id,
                           max_tokens=self.ppl_max_tokens, max_units=batch_size)


HuggingFace = HuggingFaceBaseModel
HuggingFaceCausalLM = HuggingFaceBaseModel


class HuggingFaceChatGLM3(HuggingFaceBaseModel):
    """ChatGLM3 checkpoints, evaluated as base models (their own code is
    loaded with trust_remote_code)."""


class HuggingFacewithChatTemplate(HuggingFaceBaseModel):
    """A chat/instruct model: rounds become messages, the tokenizer's chat
    template renders them, and the template's end-of-turn tokens stop decoding."""

    is_chat = True

    def __init__(self, path, stop_words=None, **kwargs):
        kwargs.pop('mode', None)
        super().__init__(path, stop_words=stop_words, **kwargs)
        eos_words = [self.tokenizer.decode([i]) for i in self.eos_ids()]
        self.stop_words = list(dict.fromkeys([*self.stop_words, *eos_words]))

    def render(self, prompt):
        if not self.is_chat:  # a FastChat format (fastchat_template)
            return super().render(prompt)
        messages = self.to_messages(prompt)
        if getattr(self.tokenizer, 'chat_template', None) is None:
            raise ModelPathError(
                f'{self.path} has no chat template; use HuggingFaceBaseModel for '
                'it, or give a tokenizer_path whose tokenizer has one')
        return self.tokenizer.apply_chat_template(
            messages, tokenize=False, add_generation_prompt=True)
