"""Sharding and the local runner: shards give the unsharded results, the
`infer` section of an upstream config is honoured, GPUs are never shared."""
import importlib.util
import json
import os
import pathlib
import subprocess
import sys

import pytest

from opencompass.partitioners import (NaivePartitioner, NumWorkerPartitioner,
                                      SizePartitioner)
from opencompass.runners.local import LocalRunner, _Devices
from opencompass.tasks.infer_task import InferTask
from opencompass.tasks.shards import split

REPO = pathlib.Path(__file__).resolve().parents[2]
HELPERS = REPO / 'tests' / 'helpers'


def _helper():
    spec = importlib.util.spec_from_file_location('scripted_for_runner_tests',
                                                  HELPERS / 'scripted_model.py')
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


scripted_config_text = _helper().scripted_config_text


@pytest.mark.parametrize('n, count', [(10, 3), (45, 4), (2, 5), (0, 3), (7, 1)])
def test_split_covers_every_sample_once(n, count):
    shards = split(n, count)
    covered = [i for s in shards for i in range(s.start, s.stop)]
    assert covered == list(range(n))
    assert len(shards) == max(1, min(count, n))
    sizes = [s.stop - s.start for s in shards]
    assert max(sizes) - min(sizes) <= 1


def test_partitioners_as_upstream_counts():
    assert NaivePartitioner().num_shards(10_000) == 1
    p = NumWorkerPartitioner(num_worker=8, min_task_size=16, out_dir='x',
                             strategy='split')
    assert [p.num_shards(n) for n in (10, 16, 17, 100, 1000)] == [1, 1, 2, 7, 8]
    assert SizePartitioner(max_task_size=100).num_shards(250) == 3


def _task(gpus):
    return InferTask(dict(abbr='m', run_cfg=dict(num_gpus=gpus)),
                     dict(abbr='d'), None, '/r')


def test_devices_are_never_handed_out_twice():
    devices = _Devices(['0', '1', '2'])
    first = devices.take(_task(2))
    assert first == ('0', '1')
    assert devices.take(_task(2)) is None  # waits: only one is free
    one = devices.take(_task(1))
    assert one == ('2',) and not set(one) & set(first)
    devices.give_back(first)
    assert sorted(devices.take(_task(2))) == ['0', '1']
    assert _Devices([]).take(_task(4)) == ()  # a CPU machine: nothing to share
    with pytest.raises(Exception, match='num_gpus=4'):
        _Devices(['0']).take(_task(4))


def _cli(args, cwd, env=None):
    full = {**os.environ, 'PYTHONPATH': f'{REPO}{os.pathsep}{HELPERS}',
            **(env or {})}
    return subprocess.run([sys.executable, str(REPO / 'run.py'), *map(str, args)],
                          cwd=cwd, env=full, capture_output=True, text=True,
                          timeout=300)


def _details(work):
    run, = [p for p in pathlib.Path(work).iterdir() if p.is_dir()]
    return {p.name: json.loads(p.read_text())['details']
            for p in (run / 'results').rglob('*.json')}, run


@pytest.mark.slow
def test_upstream_infer_section_shards_and_matches_unsharded(tmp_path):
    base = scripted_config_text(n=20)
    (tmp_path / 'plain.py').write_text(base)
    (tmp_path / 'sharded.py').write_text(
        'from opencompass.partitioners import NumWorkerPartitioner\n'
        'from opencompass.runners import LocalRunner\n'
        'from opencompass.tasks import OpenICLInferTask\n' + base +
        'infer = dict(partitioner=dict(type=NumWorkerPartitioner, num_worker=3,'
        ' min_task_size=4), runner=dict(type=LocalRunner, max_num_workers=2,'
        ' task=dict(type=OpenICLInferTask)))\n')
    assert _cli(['plain.py', '-w', 'plain'], tmp_path).returncode == 0
    proc = _cli(['sharded.py', '-w', 'sharded'], tmp_path)
    assert proc.returncode == 0, proc.stderr
    plain, _ = _details(tmp_path / 'plain')
    sharded, run = _details(tmp_path / 'sharded')
    assert sharded == plain
    assert sorted(p.name for p in (run / 'predictions' / 'scripted' / 'shards'
                                   ).glob('*.jsonl')) == [
        'demo-math_0.jsonl', 'demo-math_1.jsonl', 'demo-math_2.jsonl']
    # -r with another shard count finds every sample done
    again = _cli(['plain.py', '-w', 'sharded', '-r', '--num-shards', '5'], tmp_path)
    assert again.returncode == 0 and 'all' in again.stderr


@pytest.mark.slow
def test_parallel_tasks_never_share_a_gpu(tmp_path):
    log = tmp_path / 'devices.log'
    text = scripted_config_text(n=12, delay=0.05, extra=f", device_log={str(log)!r}"
                                ", run_cfg=dict(num_gpus=2)")
    text += ("datasets += [dict(datasets[0], abbr=f'demo-{k}') for k in range(3)]\n")
    (tmp_path / 'cfg.py').write_text(text)
    proc = _cli(['cfg.py', '-w', 'out', '--max-num-workers', '3', '--num-shards',
                 '2'], tmp_path, env={'CUDA_VISIBLE_DEVICES': '0,1,2,3,4'})
    assert proc.returncode == 0, proc.stderr
    spans = {}
    for line in log.read_text().splitlines():
        pid, devices, t = line.split()
        lo, hi, _ = spans.get(pid, (float(t), float(t), devices))
        spans[pid] = (min(lo, float(t)), max(hi, float(t)), devices)
    assert len(spans) == 8  # 4 datasets x 2 shards, one worker each
    assert all(len(d.split(',')) == 2 for _, _, d in spans.values())
    items = list(spans.values())
    overlapping = 0
    for i, (lo1, hi1, d1) in enumerate(items):
        for lo2, hi2, d2 in items[i + 1:]:
            if lo1 <= hi2 and lo2 <= hi1:
                overlapping += 1
                assert not set(d1.split(',')) & set(d2.split(','))
    assert overlapping  # two tasks did run at once
