"""Perplexity of multiple-choice options on a HF causal LM, paying for each
question's shared prompt once.

The options of one question differ only at their end ('...Answer: A' / '...
Answer: B'), so scoring each full text is mostly re-reading the same prompt. Here
each group (one question's options) is split, on token ids, into the common
prefix and one suffix per option. One forward pass reads the prefixes of a batch
of questions and keeps their KV cache; a second reads every option's suffix on
top of its question's cache rows. The result equals scoring each text alone (the
mean NLL of every token after the first), up to float rounding.

Batches are packed by length: units are sorted longest first and cut so that
rows x padded length stays under a token budget, so little compute goes to
padding and memory stays bounded.
"""
import math

import torch  # this module is imported only when a HF model scores


def common_prefix(seqs):
    """Length of the longest token prefix all `seqs` share."""
    n = min(len(s) for s in seqs)
    for i in range(n):
        token = seqs[0][i]
        if any(s[i] != token for s in seqs[1:]):
            return i
    return n


def split_units(groups):
    """[(prefix, [suffixes], [(group, option)])]: each group becomes one unit
    sharing its common prefix; a group with no common prefix (or an option that
    is all prefix) is scored option by option. Texts of under two tokens have
    nothing to score and are left out (their NLL is 0)."""
    units = []
    for g, seqs in enumerate(groups):
        seqs = [s for s in seqs]
        p = min(common_prefix(seqs), min(len(s) for s in seqs) - 1)
        if p >= 1:
            units.append((seqs[0][:p], [s[p:] for s in seqs],
                          [(g, k) for k in range(len(seqs))]))
            continue
        for k, s in enumerate(seqs):
            if len(s) >= 2:
                units.append((s[:-1], [s[-1:]], [(g, k)]))
    return units


def pack(units, max_tokens, max_units=None):
    """Batches of units, longest first, each within the token budget."""
    order = sorted(range(len(units)),
                   key=lambda u: -(len(units[u][0]) + max(map(len, units[u][1]))))
    batches, batch, width = [], [], 0
    for u in order:
        prefix, suffixes, _ = units[u]
        new_width = max(width, len(prefix))
        rows = len(batch) + 1
        fits = new_width * rows <= max_tokens and (
            not max_units or rows <= max_units)
        if batch and not fits:
            batches.append(batch)
            batch, new_width = [], len(prefix)
        batch.append(u)
        width = new_width
    if batch:
        batches.append(batch)
    return batches


def _token_nll(logits, targets):
    """-log p(target) per position; logits [N, V], targets [N]."""
    return torch.nn.functional.cross_entropy(logits.float(), targets,
                                             reduction='none')


def score_batch(model, units, pad_id):
    """(nll sum, token count) per option of a batch of units, in order."""
    device = next(model.parameters()).device
    width = max(len(u[0]) for u in units)
    ids = torch.full((len(units), width), pad_id, dtype=torch.long)
    mask = torch.zeros((len(units), width), dtype=torch.long)
    for b, (prefix, _, _) in enumerate(units):
        ids[b, width - len(prefix):] = torch.tensor(prefix)
        mask[b, width - len(prefix):] = 1
    ids, mask = ids.to(device), mask.to(device)
    with torch.no_grad():
        out = model(input_ids=ids, attention_mask=mask,
                    position_ids=(mask.cumsum(-1) - 1).clamp(min=0),
                    use_cache=True)
    prefix_sum = []
    for b, (prefix, _, _) in enumerate(units):
        n = len(prefix)
        logits = out.logits[b, width - n:width - 1]
        prefix_sum.append(float(_token_nll(logits, ids[b, width - n + 1:]).sum())
                          if n > 1 else 0.0)
    last = out.logits[:, -1]  # predicts each option's first suffix token
    rows = [(b, s) for b, u in enumerate(units) for s in u[1]]
    sfx_width = max(len(s) for _, s in rows)
    index = torch.tensor([b for b, _ in rows], device=device)
    from opencompass.models._decode import _cache_kwarg
    cache = getattr(out, 'cache', None) or out.past_key_values
    cache.batch_select_indices(index)
    sfx = torch.full((len(rows), sfx_width), pad_id, dtype=torch.long)
    sfx_mask = torch.zeros((len(rows), sfx_width), dtype=torch.long)
    for r, (_, s) in enumerate(rows):
        sfx[r, :len(s)] = torch.tensor(s)
        sfx_mask[r, :len(s)] = 1
    sfx, sfx_mask = sfx.to(device), sfx_mask.to(device)
    start = mask.sum(1)[index]
    positions = start[:, None] + torch.arange(sfx_width, device=device)[None]
    with torch.no_grad():
        out2 = model(input_ids=sfx,
                     attention_mask=torch.cat([mask[index], sfx_mask], 1),
                     position_ids=positions, use_cache=False,
                     **{_cache_kwarg(model): cache})
    results = []
    for r, (b, s) in enumerate(rows):
        n = len(s)
        logits = torch.cat([last[b:b + 1], out2.logits[r, :n - 1]], 0)
        total = prefix_sum[b] + float(_token_nll(logits, sfx[r, :n]).sum())
        results.append((total, len(units[b][0]) - 1 + n))
    return results


def grouped_ppl(model, groups, pad_id, max_tokens=2048, max_units=None):
    """Mean token NLL of every option of every group (token id lists)."""
    out = [[0.0] * len(g) for g in groups]
    units = split_units(groups)
    for batch in pack(units, max_tokens, max_units):
        chosen = [units[u] for u in batch]
        scores = score_batch(model, chosen, pad_id)
        places = [place for u in chosen for place in u[2]]
        for (g, k), (total, count) in zip(places, scores):
            out[g][k] = total / count if count else 0.0
    for row in out:
        if any(math.isnan(x) for x in row):
            raise FloatingPointError('perplexity is NaN; the model produced '
                                     'invalid logits for this prompt')
    return out
