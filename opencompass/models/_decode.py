"""Batched decoding for HF models that spends no compute on finished rows.

`model.generate` keeps decoding every row of a batch until the longest one ends.
For greedy decoding (what evaluations use) `greedy_stream` runs its own loop over
the KV cache instead, with continuous batching: each step it checks EOS and stop
words on the new tokens, drops finished rows from the batch and the cache, and
prefills waiting prompts into the freed slots. Anything else (sampling, beams,
penalties) goes through `model.generate` with `stop_strings`.
"""

# generation kwargs the greedy loop honours; any other key needs model.generate.
_GREEDY_SAFE = {'do_sample', 'temperature', 'top_p', 'top_k', 'max_new_tokens',
                'eos_token_id', 'pad_token_id', 'use_cache'}


def is_greedy(gen_kwargs):
    return (not gen_kwargs.get('do_sample') and gen_kwargs.get('num_beams', 1) == 1
            and set(gen_kwargs) <= _GREEDY_SAFE)


def eos_set(hf, gen_kwargs):
    """The model's EOS ids plus any `eos_token_id` of the generation kwargs."""
    eos = set(hf.eos_ids())
    extra = gen_kwargs.get('eos_token_id')
    eos.update(extra if isinstance(extra, (list, tuple)) else
               ([extra] if extra is not None else []))
    return eos


def decode_batch(hf, batch_ids, max_new, stops, gen_kwargs):
    """[(text, n_output_tokens)] for each prompt's token ids, in order;
    `max_new` caps the output, one int or one per prompt."""
    eos = eos_set(hf, gen_kwargs)
    if is_greedy(gen_kwargs) and supports_streaming(hf.model):
        outs = greedy_decode(hf.model, hf.tokenizer, batch_ids, max_new, eos, stops)
    else:
        outs = hf_generate(hf, batch_ids, max_new, eos, stops, gen_kwargs)
    return [(hf.tokenizer.decode(ids, skip_special_tokens=True), len(ids))
            for ids in outs]


def _left_pad(batch_ids, pad_id, device):
    import torch
    width = max(len(ids) for ids in batch_ids)
    input_ids = torch.full((len(batch_ids), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(batch_ids), width), dtype=torch.long)
    for row, ids in enumerate(batch_ids):
        if ids:
            input_ids[row, width - len(ids):] = torch.tensor(ids)
            mask[row, width - len(ids):] = 1
    return input_ids.to(device), mask.to(device)


class _StopChecker:
    """Tells whether a row's newest tokens end it (EOS or a stop word)."""

    def __init__(self, tokenizer, eos, stops):
        self.tokenizer = tokenizer
        self.eos = eos
        self.stops = [s for s in stops if s]
        self.window = max((len(s) for s in self.stops), default=0) + 2

    def done(self, ids):
        if ids[-1] in self.eos:
            return True
        if not self.stops:
            return False
        tail = self.tokenizer.decode(ids[-self.window:], skip_special_tokens=False)
        return any(s in tail for s in self.stops)


def _growing_cache():
    """A DynamicCache whose layers grow in place (see `_growing_layer`)."""
    from transformers import DynamicCache
    cache = DynamicCache()
    if getattr(cache, 'layer_class_to_replicate', None) is not None:
        cache.layer_class_to_replicate = _growing_layer()
    return cache


_GROWING = []


def _growing_layer():
    """A DynamicLayer that appends into spare capacity instead of `torch.cat`
    of the whole cache at every step (a fifth of a CPU decoding step)."""
    if _GROWING:
        return _GROWING[0]
    from transformers.cache_utils import DynamicLayer

    class GrowingLayer(DynamicLayer):

        def update(self, key_states, value_states, *args, **kwargs):
            if not self.is_initialized:
                self.lazy_initialization(key_states, value_states)
            if getattr(self, '_view', None) is not self.keys:
                self._reseed()  # keys were replaced: rows left or joined
            start, end = self._len, self._len + key_states.shape[-2]
            if self._k is None or end > self._k.shape[-2]:
                self._grow(end, key_states, value_states)
            self._k[:, :, start:end] = key_states
            self._v[:, :, start:end] = value_states
            self._len = end
            self.keys, self.values = self._k[:, :, :end], self._v[:, :, :end]
            self._view = self.keys
            return self.keys, self.values

        def _reseed(self):
            if self.keys is None or self.keys.dim() != 4:
                self._k = self._v = None
                self._len = 0
            else:
                self._k, self._v = self.keys, self.values
                self._len = self.keys.shape[-2]

        def _grow(self, need, keys, values):
            cap = max(need + 64, 2 * self._len)
            k = keys.new_zeros(*keys.shape[:2], cap, keys.shape[3])
            v = values.new_zeros(*values.shape[:2], cap, values.shape[3])
            if self._len:
                k[:, :, :self._len] = self._k[:, :, :self._len]
                v[:, :, :self._len] = self._v[:, :, :self._len]
            self._k, self._v = k, v

    _GROWING.append(GrowingLayer)
    return GrowingLayer


class _Rows:
    """The decoding batch: KV cache, attention mask and next-token logits of
    the rows in flight. Rows join (after their own prefill) and leave at any
    step; the cache is left-padded so every row ends at the same position."""

    def __init__(self, model):
        import torch
        self.torch = torch
        self.model = model
        self.key = _cache_kwarg(model)
        self.cache = None
        self.mask = None
        self.logits = None
        self.ids = []  # the input index of each row

    def __len__(self):
        return len(self.ids)

    def _forward(self, input_ids, mask, positions, cache):
        return self.model(input_ids=input_ids, attention_mask=mask,
                          position_ids=positions, use_cache=True,
                          **{self.key: cache}).logits[:, -1]

    def admit(self, ids, batch_ids, pad):
        """Prefill `batch_ids` (prompts of input indices `ids`) and join them."""
        device = next(self.model.parameters()).device
        input_ids, mask = _left_pad(batch_ids, pad, device)
        cache = _growing_cache()
        positions = (mask.cumsum(-1) - 1).clamp(min=0)
        logits = self._forward(input_ids, mask, positions, cache)
        if self.cache is None:
            self.cache, self.mask, self.logits = cache, mask, logits
        else:
            self._merge(cache, mask, logits)
        self.ids.extend(ids)

    def _merge(self, cache, mask, logits):
        torch = self.torch
        width = max(self.mask.shape[1], mask.shape[1])

        def pad(t, dim_from_end):  # left-pad the sequence axis to `width`
            missing = width - t.shape[-dim_from_end]
            if not missing:
                return t
            shape = list(t.shape)
            shape[-dim_from_end] = missing
            return torch.cat([t.new_zeros(shape), t], dim=-dim_from_end)

        for mine, new in zip(self.cache.layers, cache.layers):
            mine.keys = torch.cat([pad(mine.keys, 2), pad(new.keys, 2)])
            mine.values = torch.cat([pad(mine.values, 2), pad(new.values, 2)])
        self.mask = torch.cat([pad(self.mask, 1), pad(mask, 1)])
        self.logits = torch.cat([self.logits, logits])

    def keep(self, rows):
        """Keep only `rows` (positions in the batch); trim all-padding columns."""
        torch = self.torch
        index = torch.tensor(rows, device=self.mask.device)
        self.cache.batch_select_indices(index)
        self.mask, self.logits = self.mask[index], self.logits[index]
        self.ids = [self.ids[r] for r in rows]
        first = int(self.mask.any(0).nonzero()[0])
        if first:
            for layer in self.cache.layers:
                layer.keys = layer.keys[:, :, first:]
                layer.values = layer.values[:, :, first:]
            self.mask = self.mask[:, first:]

    def step(self, tokens):
        """Feed one token per row; the logits of the next position."""
        torch = self.torch
        self.mask = torch.cat([self.mask, self.mask.new_ones((len(self), 1))], 1)
        positions = self.mask.sum(-1, keepdim=True) - 1
        self.logits = self._forward(tokens[:, None], self.mask, positions,
                                    self.cache)


def _cap(max_new, index):
    """The output cap of prompt `index`: `max_new` is one int or a list."""
    return max_new[index] if isinstance(max_new, (list, tuple)) else max_new


def greedy_stream(model, tokenizer, batch_ids, max_new, eos, stops, batch_size):
    """Greedy decoding with continuous batching: yields (index, token ids) as
    rows finish (`max_new`: one cap, or one per prompt). A finished row leaves
    the batch and a waiting prompt takes its place, so every step decodes
    `batch_size` live rows and none is padding."""
    import torch
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    checker = _StopChecker(tokenizer, eos, stops)
    waiting = list(range(len(batch_ids)))[::-1]  # pop() takes the first
    outs = {}
    rows = _Rows(model)
    with torch.inference_mode():
        while waiting or len(rows):
            free = batch_size - len(rows)
            if free > 0 and waiting:
                new = [waiting.pop() for _ in range(min(free, len(waiting)))]
                rows.admit(new, [batch_ids[i] for i in new], pad)
            tokens = rows.logits.argmax(-1)
            alive = []
            for r, tok in enumerate(tokens.tolist()):
                ids = outs.setdefault(rows.ids[r], [])
                ids.append(tok)
                if checker.done(ids) or len(ids) >= _cap(max_new, rows.ids[r]):
                    yield rows.ids[r], _strip_eos(outs.pop(rows.ids[r]), eos)
                else:
                    alive.append(r)
            if not alive:
                rows = _Rows(model)
                continue
            if len(alive) < len(rows):
                rows.keep(alive)
                tokens = tokens[torch.tensor(alive)]
            rows.step(tokens)


def greedy_decode(model, tokenizer, batch_ids, max_new, eos, stops,
                  batch_size=None):
    """Greedy decoding of all prompts; token ids in input order."""
    out = dict(greedy_stream(model, tokenizer, batch_ids, max_new, eos, stops,
                             batch_size or len(batch_ids)))
    return [out[i] for i in range(len(batch_ids))]


def supports_streaming(model):
    """Continuous batching rewrites the KV cache by hand: only for plain
    (non-sliding) dynamic cache layers."""
    from transformers import DynamicCache
    try:
        layers = DynamicCache(config=model.config).layers
    except Exception:  # noqa: BLE001 - an unusual cache: take the safe path
        return False
    return all(type(layer).__name__ == 'DynamicLayer' for layer in layers)


def _cache_kwarg(model):
    """transformers >= 5.2x names the forward's cache argument `cache`;
    earlier releases call it `past_key_values`."""
    import inspect
    params = inspect.signature(model.forward).parameters
    return 'cache' if 'cache' in params else 'past_key_values'


def _strip_eos(ids, eos):
    return ids[:-1] if ids and ids[-1] in eos else ids


def hf_generate(hf, batch_ids, max_new, eos, stops, gen_kwargs):
    """Non-greedy decoding through `model.generate` (sampling, beams, ...)."""
    import torch
    device = hf.device
    pad = hf.tokenizer.pad_token_id
    input_ids, mask = _left_pad(batch_ids, pad, device)
    kwargs = {k: v for k, v in gen_kwargs.items() if k != 'max_new_tokens'}
    kwargs.setdefault('pad_token_id', pad)
    kwargs['eos_token_id'] = sorted(eos)
    if stops:
        kwargs.update(stop_strings=list(stops), tokenizer=hf.tokenizer)
    with torch.inference_mode():
        out = hf.model.generate(
            input_ids=input_ids, attention_mask=mask, max_new_tokens=max(
                _cap(max_new, i) for i in range(len(batch_ids))), **kwargs)
    rows = []
    for i, seq in enumerate(out[:, input_ids.shape[1]:].tolist()):
        ids = []
        for tok in seq[:_cap(max_new, i)]:
            if tok in eos:
                break
            ids.append(tok)
        rows.append(ids)
    return rows
