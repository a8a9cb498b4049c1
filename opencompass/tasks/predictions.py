"""The predictions file of one (model, dataset): the run's memory.

One JSON line per sample, appended and flushed as each result arrives, so a killed
run keeps everything it finished. A sample with an `error` counts as not done, so
a resumed run (`-r`) retries exactly the failed and the missing ones. When a task
ends, the file is rewritten in input order, one line per sample.

The file is a crash-safe log: a kill mid-write or a full disk can leave a torn
last line (half a JSON object, half a UTF-8 character). Reading skips any line
that does not decode; before appending, the torn tail is cut off, so the next
record starts on a line of its own and the torn sample is simply redone.
Rewrites go through a private temporary file and an atomic rename; the run
folder's lock (`tasks/run_lock.py`) keeps a second writer away.
"""
import errno
import json
import logging
import os

from opencompass.errors import DiskFullError

logger = logging.getLogger(__name__)


def _parse(raw):
    """One line -> a record dict, or None for a torn or foreign line."""
    try:
        rec = json.loads(raw.decode('utf-8'))
        return rec if isinstance(rec, dict) and int(rec['idx']) >= 0 else None
    except (UnicodeDecodeError, ValueError, KeyError, TypeError):
        return None


def cut_torn_tail(path):
    """Truncate `path` after its last newline; returns the bytes cut."""
    with open(path, 'r+b') as f:
        size = f.seek(0, os.SEEK_END)
        end = size
        while end > 0:
            step = min(65536, end)
            f.seek(end - step)
            chunk = f.read(step)
            nl = chunk.rfind(b'\n')
            if nl != -1:
                end = end - step + nl + 1
                break
            end -= step
        if end < size:
            f.truncate(end)
        return size - end


def write_atomic(path, text):
    """Write `text` to `path` through a private temp file and a rename: a
    reader sees the old file or the new one, never half of one."""
    tmp = f'{path}.{os.getpid()}.tmp'
    try:
        with open(tmp, 'w', encoding='utf-8') as f:
            f.write(text)
            f.flush()
            os.fsync(f.fileno())
        os.replace(tmp, path)
    except OSError as err:
        _remove_quietly(tmp)
        raise _disk_error(err, path) from None


def _remove_quietly(path):
    try:
        os.remove(path)
    except OSError:
        pass


def _disk_error(err, path):
    if err.errno in (errno.ENOSPC, errno.EDQUOT):
        return DiskFullError(
            f'no space left on the device while writing {path}; the predictions '
            'written so far are kept: free some space, then resume with -r')
    return err


class PredictionStore:

    def __init__(self, path):
        self.path = path
        self._file = None

    def load(self):
        """idx -> last record written for it (torn or foreign lines ignored)."""
        records = {}
        if not os.path.exists(self.path):
            return records
        with open(self.path, 'rb') as f:
            for raw in f:
                rec = _parse(raw)
                if rec is not None:
                    records[int(rec['idx'])] = rec
        return records

    def todo(self, n):
        """Indices in range(n) without a successful prediction."""
        done = {i for i, r in self.load().items() if not r.get('error')}
        return [i for i in range(n) if i not in done]

    def _open(self):
        os.makedirs(os.path.dirname(self.path), exist_ok=True)
        if os.path.exists(self.path):
            cut = cut_torn_tail(self.path)
            if cut:
                logger.warning('%s: cut a torn last line (%d bytes) left by an '
                               'interrupted write; its sample is redone',
                               self.path, cut)
        self._file = open(self.path, 'a', encoding='utf-8')

    def write(self, idx, prompt, gen, gold=None):
        rec = {'idx': idx, 'origin_prompt': _jsonable(prompt),
               'prediction': gen.text, 'out_tokens': gen.out_tokens}
        if gold is not None:
            rec['gold'] = gold
        if gen.error:
            rec['error'] = gen.error
        self._append(json.dumps(rec, ensure_ascii=False) + '\n')

    def _append(self, line):
        """Append one record line and flush it (the log's only write)."""
        try:
            if self._file is None:
                self._open()
            self._file.write(line)
            self._file.flush()
        except OSError as err:
            self._abandon()
            raise _disk_error(err, self.path) from None

    def _abandon(self):
        """Drop a file whose last write failed: close() still releases the
        descriptor when its flush fails; the torn tail the failed write may
        leave is cut on the next open."""
        if self._file is not None:
            try:
                self._file.close()
            except OSError:
                pass
            self._file = None

    def close(self):
        if self._file is not None:
            try:
                self._file.close()
            except OSError as err:
                self._abandon()
                raise _disk_error(err, self.path) from None
            self._file = None

    def compact(self):
        """Rewrite the file in input order, one line per sample (atomic; on a
        failure the old file stays as it was)."""
        self.close()
        records = self.load()
        if not records:  # nothing was predicted (e.g. the server was down)
            return records
        write_atomic(self.path, ''.join(
            json.dumps(records[idx], ensure_ascii=False) + '\n'
            for idx in sorted(records)))
        return records


def load_pair(paths):
    """idx -> record over several predictions files of one pair (shards of
    any count); a successful record wins over a failed one."""
    records = {}
    for path in paths:
        for idx, rec in PredictionStore(path).load().items():
            if idx not in records or records[idx].get('error') or not rec.get(
                    'error'):
                records[idx] = rec
    return records


def done_indices(paths):
    return {i for i, r in load_pair(paths).items() if not r.get('error')}


def sum_stats(paths):
    """The stats of a pair summed over its files (shards)."""
    total, found = dict.fromkeys(STAT_KEYS, 0), False
    for path in paths:
        try:
            with open(path, encoding='utf-8') as f:
                stats = json.load(f)
        except (OSError, ValueError):
            continue
        found = True
        for key in STAT_KEYS:
            total[key] += stats.get(key, 0) or 0
    return total if found else {}


STAT_KEYS = ('seconds', 'samples', 'out_tokens')


def add_stats(path, stats, store):
    """Accumulate inference time and counts across resumed runs. A torn or
    unreadable stats file is rebuilt from the predictions (their count and
    output tokens; the time of the lost runs is unknown and counted as 0)."""
    total = dict.fromkeys(STAT_KEYS, 0)
    total['seconds'] = 0.0
    if os.path.exists(path):
        try:
            with open(path, encoding='utf-8') as f:
                total.update({k: v for k, v in json.load(f).items()
                              if k in STAT_KEYS})
        except (ValueError, OSError, AttributeError):
            total = rebuild_stats(store)
            logger.warning('%s was unreadable; rebuilt from the predictions '
                           '(earlier inference time unknown)', path)
            stats = {'seconds': stats.get('seconds', 0)}  # counts are in already
    for key in STAT_KEYS:
        total[key] += stats.get(key, 0)
    write_atomic(path, json.dumps(total, indent=2))


def rebuild_stats(store):
    done = [r for r in store.load().values() if not r.get('error')]
    return {'seconds': 0.0, 'samples': len(done),
            'out_tokens': sum(r.get('out_tokens') or 0 for r in done)}


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
