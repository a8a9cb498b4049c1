"""Inferencers: run a model over rendered prompts and hand each result to a writer.

They never keep results in memory only: every result goes to `writer` as soon as
the model yields it, so an interrupted run keeps every finished prediction.
"""
import time

from opencompass.utils.progress import progress_bar


class GenInferencer:
    """Free-form generation (`model.generate_iter`)."""

    mode = 'gen'

    def __init__(self, max_out_len=None, batch_size=None, stopping_criteria=None,
                 min_out_len=None, **kwargs):
        self.max_out_len = max_out_len
        self.batch_size = batch_size
        self.stopping_criteria = list(stopping_criteria or [])

    def infer(self, model, prompts, todo, writer, max_out_len, batch_size, desc=''):
        """Generate for `prompts[i]` for each i in `todo`; return stats."""
        kwargs = {'stopping_criteria': self.stopping_criteria
                  } if self.stopping_criteria else {}
        start, out_tokens = time.perf_counter(), 0
        with progress_bar(len(todo), desc) as bar:
            for j, gen in model.generate_iter([prompts[i] for i in todo],
                                              max_out_len, batch_size, **kwargs):
                writer.write(todo[j], prompts[todo[j]], gen)
                out_tokens += gen.out_tokens or 0
                bar.update(1, out_tokens)
        return {'seconds': time.perf_counter() - start, 'samples': len(todo),
                'out_tokens': out_tokens}


class PPLInferencer:
    """Multiple choice by perplexity: one prompt per label, the lowest NLL wins.

    `prompts[i]` is a dict label -> prompt; the prediction is the label whose
    prompt the model finds most likely. Questions go to the model
    `batch_size` at a time, longest first, as groups of options
    (`model.get_ppl_groups`), so a backend can read each question's shared
    prompt once and batch questions of similar length together.
    """

    mode = 'ppl'
    max_out_len = None

    def __init__(self, batch_size=None, labels=None, **kwargs):
        self.batch_size = batch_size
        self.labels = labels

    def infer(self, model, prompts, todo, writer, max_out_len, batch_size, desc=''):
        from opencompass.models.base import Generation
        start = time.perf_counter()
        texts = {i: [model.to_text(p) for p in prompts[i].values()] for i in todo}
        order = sorted(todo, key=lambda i: -max(map(len, texts[i])))
        step = max(1, batch_size)
        with progress_bar(len(todo), desc) as bar:
            for s in range(0, len(order), step):
                chunk = order[s:s + step]
                scores = model.get_ppl_groups([texts[i] for i in chunk])
                for i, ppl in zip(chunk, scores):
                    labels = list(prompts[i])
                    best = labels[min(range(len(labels)), key=ppl.__getitem__)]
                    writer.write(i, prompts[i], Generation(text=str(best)))
                    bar.update(1)
        return {'seconds': time.perf_counter() - start, 'samples': len(todo),
                'out_tokens': 0}
