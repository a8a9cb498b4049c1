"""Batched decoding for HF models that stops spending compute on finished rows.

`model.generate` keeps decoding every row of a batch until the longest one ends.
For greedy decoding (what evaluations use) `greedy_decode` runs its own loop over
the KV cache instead: each step it checks EOS and stop words on the new tokens and
drops finished rows from the batch and from the cache. Anything else (sampling,
beams, penalties) goes through `model.generate` with `stop_strings`.
"""

# generation kwargs the greedy loop honours; any other key needs model.generate.
_GREEDY_SAFE = {'do_sample', 'temperature', 'top_p', 'top_k', 'max_new_tokens',
                'eos_token_id', 'pad_token_id', 'use_cache'}


def is_greedy(gen_kwargs):
    return (not gen_kwargs.get('do_sample') and gen_kwargs.get('num_beams', 1) == 1
            and set(gen_kwargs) <= _GREEDY_SAFE)


def decode_batch(hf, batch_ids, max_out_len, stops, gen_kwargs):
    """[(text, n_output_tokens)] for each prompt's token ids, in order."""
    max_new = int(gen_kwargs.get('max_new_tokens') or max_out_len)
    eos = set(hf.eos_ids())
    extra = gen_kwargs.get('eos_token_id')
    eos.update(extra if isinstance(extra, (list, tuple)) else
               ([extra] if extra is not None else []))
    if is_greedy(gen_kwargs):
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


def greedy_decode(model, tokenizer, batch_ids, max_new, eos, stops):
    """Greedy decoding; finished rows leave the batch and the KV cache."""
    import torch
    from transformers import DynamicCache
    device = next(model.parameters()).device
    pad = tokenizer.pad_token_id if tokenizer.pad_token_id is not None else 0
    input_ids, mask = _left_pad(batch_ids, pad, device)
    checker = _StopChecker(tokenizer, eos, stops)
    outs = [[] for _ in batch_ids]
    active = list(range(len(batch_ids)))
    cache = {_cache_kwarg(model): DynamicCache()}
    positions = (mask.cumsum(-1) - 1).clamp(min=0)
    with torch.inference_mode():
        logits = model(input_ids=input_ids, attention_mask=mask,
                       position_ids=positions, use_cache=True,
                       **cache).logits[:, -1]
        for _ in range(max_new):
            next_tokens = logits.argmax(-1)
            keep = []
            for row, tok in enumerate(next_tokens.tolist()):
                ids = outs[active[row]]
                ids.append(tok)
                if not checker.done(ids):
                    keep.append(row)
            if not keep or len(outs[active[keep[0]]]) >= max_new:
                break
            if len(keep) < len(active):
                index = torch.tensor(keep, device=device)
                next(iter(cache.values())).batch_select_indices(index)
                mask, next_tokens = mask[index], next_tokens[index]
                active = [active[r] for r in keep]
            mask = torch.cat([mask, mask.new_ones((len(active), 1))], dim=1)
            logits = model(input_ids=next_tokens[:, None], attention_mask=mask,
                           position_ids=(mask.sum(-1, keepdim=True) - 1),
                           use_cache=True, **cache).logits[:, -1]
    return [_strip_eos(ids, eos) for ids in outs]


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
        out = hf.model.generate(input_ids=input_ids, attention_mask=mask,
                                max_new_tokens=max_new, **kwargs)
    rows = []
    for seq in out[:, input_ids.shape[1]:].tolist():
        ids = []
        for tok in seq:
            if tok in eos:
                break
            ids.append(tok)
        rows.append(ids)
    return rows
