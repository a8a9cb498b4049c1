"""A tqdm bar per task that shows samples/s and, when known, output tokens/s."""
import contextlib
import time


@contextlib.contextmanager
def progress_bar(total, desc=''):
    from tqdm import tqdm
    bar = tqdm(total=total, desc=desc, unit='sample', dynamic_ncols=True,
               mininterval=1.0)
    start = time.perf_counter()

    class _Bar:

        def update(self, n=1, out_tokens=None):
            bar.update(n)
            if out_tokens:
                elapsed = max(time.perf_counter() - start, 1e-9)
                bar.set_postfix_str(f'{out_tokens / elapsed:.1f} tok/s',
                                    refresh=False)

    try:
        yield _Bar()
    finally:
        bar.close()
