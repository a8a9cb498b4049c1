"""The predictions file of one (model, dataset): the run's memory.

One JSON line per sample, appended and flushed as each result arrives, so a killed
run keeps everything it finished. A sample with an `error` counts as not done, so
a resumed run (`-r`) retries exactly the failed and the missing ones. When a task
ends, the file is rewritten in input order, one line per sample.
"""
import json
import os


class PredictionStore:

    def __init__(self, path):
        self.path = path
        self._file = None

    def load(self):
        """idx -> last record written for it (a torn last line is ignored)."""
        records = {}
        if not os.path.exists(self.path):
            return records
        with open(self.path, encoding='utf-8') as f:
            for line in f:
                try:
                    rec = json.loads(line)
                except json.JSONDecodeError:
                    continue  # the process died mid-write
                records[int(rec['idx'])] = rec
        return records

    def todo(self, n):
        """Indices in range(n) without a successful prediction."""
        done = {i for i, r in self.load().items() if not r.get('error')}
        return [i for i in range(n) if i not in done]

    def write(self, idx, prompt, gen, gold=None):
        if self._file is None:
            os.makedirs(os.path.dirname(self.path), exist_ok=True)
            self._file = open(self.path, 'a', encoding='utf-8')
        rec = {'idx': idx, 'origin_prompt': _jsonable(prompt),
               'prediction': gen.text, 'out_tokens': gen.out_tokens}
        if gold is not None:
            rec['gold'] = gold
        if gen.error:
            rec['error'] = gen.error
        self._file.write(json.dumps(rec, ensure_ascii=False) + '\n')
        self._file.flush()

    def close(self):
        if self._file is not None:
            self._file.close()
            self._file = None

    def compact(self):
        """Rewrite the file in input order, one line per sample (atomic)."""
        self.close()
        records = self.load()
        if not records:  # nothing was predicted (e.g. the server was down)
            return records
        tmp = self.path + '.tmp'
        with open(tmp, 'w', encoding='utf-8') as f:
            for idx in sorted(records):
                f.write(json.dumps(records[idx], ensure_ascii=False) + '\n')
        os.replace(tmp, self.path)
        return records


class _Writer:
    """Binds a store to the dataset's references for the inferencers."""

    def __init__(self, store, golds):
        self.store = store
        self.golds = golds

    def write(self, idx, prompt, gen):
        self.store.write(idx, prompt, gen, self.golds[idx])


def _jsonable(prompt):
    if isinstance(prompt, str):
        return prompt
    if isinstance(prompt, dict):
        return {str(k): _jsonable(v) for k, v in prompt.items()}
    return [dict(p) if isinstance(p, dict) else p for p in prompt]
