"""A fast, deterministic model for tests of the run machinery (kills, resume,
locks, exit codes), importable by dotted path `scripted_model.ScriptedModel`
when tests/helpers is on PYTHONPATH (as tests/test_hardening.py runs the CLI).

Its answer depends on the prompt alone, never on batching or order, so an
interrupted and resumed run must give exactly the results of a whole one.
"""
import hashlib
import os
import time

from opencompass.models.base import BaseModel, Generation


def _digest(text):
    return int(hashlib.sha256(text.encode()).hexdigest(), 16)


class ScriptedModel(BaseModel):
    """`delay` seconds per sample; `fail_mod=k` fails the prompts whose digest
    is divisible by k, as an API error would (recorded, retried by -r);
    `crash_once_file`: the first task to generate crashes (and creates it)."""

    def __init__(self, path='scripted', delay=0.0, fail_mod=0, key=None,
                 crash_once_file=None, device_log=None, **kwargs):
        super().__init__(path, **kwargs)
        self.device_log = device_log
        self.delay = delay
        self.fail_mod = fail_mod
        self.crash_once_file = crash_once_file

    def _crash_once(self):
        """The first task to get here crashes (a job that fails once)."""
        try:
            os.close(os.open(self.crash_once_file, os.O_CREAT | os.O_EXCL))
        except FileExistsError:
            return
        raise RuntimeError('scripted crash (first attempt)')

    def generate_batch(self, inputs, max_out_len, **kwargs):
        if self.crash_once_file:
            self._crash_once()
        if self.device_log:  # which GPUs this task was given, and when
            with open(self.device_log, 'a') as f:
                f.write(f"{os.getpid()} {os.environ.get('CUDA_VISIBLE_DEVICES')} "
                        f'{time.time()}\n')
        out = []
        for prompt in inputs:
            time.sleep(self.delay)
            digest = _digest(self.to_text(prompt))
            if self.fail_mod and digest % self.fail_mod == 0:
                out.append(Generation(error='scripted failure'))
            else:
                out.append(Generation(f'The answer is {digest % 20}', 4))
        return out

    def generate(self, inputs, max_out_len, **kwargs):
        return [g.text for g in self.generate_batch(inputs, max_out_len)]


def scripted_config_text(abbr='scripted', delay=0.0, fail_mod=0, n=None,
                         dataset_abbr='demo-math', data_path='demo_math',
                         crash_once_file=None, extra=''):
    """A config with this model on the packaged demo-math set."""
    test_range = f", test_range='[0:{n}]'" if n else ''
    return f'''
models = [dict(type='scripted_model.ScriptedModel', abbr={abbr!r}, delay={delay},
               fail_mod={fail_mod}, crash_once_file={crash_once_file!r},
               max_out_len=16, batch_size=2{extra})]
datasets = [dict(
    abbr={dataset_abbr!r}, type='DemoMathDataset', path={data_path!r},
    reader_cfg=dict(input_columns=['question'], output_column='answer'{test_range}),
    infer_cfg=dict(prompt_template=dict(type='PromptTemplate',
                                        template='{{question}}\\nAnswer:'),
                   retriever=dict(type='ZeroRetriever'),
                   inferencer=dict(type='GenInferencer', max_out_len=16)),
    eval_cfg=dict(evaluator=dict(type='Gsm8kEvaluator'),
                  pred_postprocessor=dict(type='gsm8k_postprocess'),
                  dataset_postprocessor=dict(type='gsm8k_dataset_postprocess')))]
'''
