"""Which runner and partitioner a run uses: the command line, else the
config's `infer` section (upstream's shape), else local and unsharded.

    infer = dict(partitioner=dict(type=NumWorkerPartitioner, num_worker=4),
                 runner=dict(type=SlurmRunner, partition='gpu', retry=2))
"""
from opencompass.errors import ConfigError
from opencompass.registry import build_from_cfg


def add_arguments(parser):
    parser.add_argument('--max-num-workers', type=int, default=None,
                        help='run tasks in N worker processes (or N Slurm jobs '
                        'at once with --slurm; default 1, 32 on Slurm)')
    parser.add_argument('--num-shards', type=int, metavar='N',
                        help='split every (model, dataset) pair into N shards, '
                        'each its own task')
    parser.add_argument('--slurm', action='store_true',
                        help='run every task as a Slurm job (sbatch)')
    parser.add_argument('-p', '--partition', help='Slurm partition (--slurm)')
    parser.add_argument('-q', '--qos', help='Slurm QOS (--slurm)')
    parser.add_argument('--retry', type=int, default=None,
                        help='resubmit a failed Slurm job up to N times '
                        '(default 2)')


def _section(cfg, key):
    section = (cfg.get('infer') or {}).get(key) if cfg else None
    if section is not None and not isinstance(section, dict):
        raise ConfigError(f'infer.{key}: expected a dict with a type, got '
                          f'{type(section).__name__}')
    return dict(section) if section else None


def choose_partitioner(cfg, args):
    from opencompass.partitioners import NumWorkerPartitioner
    if args.num_shards:
        return NumWorkerPartitioner(num_worker=args.num_shards, min_task_size=0)
    section = _section(cfg, 'partitioner')
    return build_from_cfg(section, 'partitioner') if section else None


def choose_runner(cfg, args):
    from opencompass.runners.local import LocalRunner
    from opencompass.runners.slurm import SlurmRunner
    section = _section(cfg, 'runner') or {}
    if args.slurm and not _is_slurm(section):
        section = {'type': SlurmRunner}
    for key, value in (('max_num_workers', args.max_num_workers),
                       ('partition', args.partition), ('qos', args.qos),
                       ('retry', args.retry)):
        if value is not None and (key == 'max_num_workers' or
                                  _is_slurm(section)):
            section[key] = value
    if not section.get('type'):
        return LocalRunner(section.get('max_num_workers') or 1)
    return build_from_cfg(section, 'runner')


def _is_slurm(section):
    from opencompass.registry import resolve_type
    from opencompass.runners.slurm import SlurmRunner
    return bool(section.get('type')) and issubclass(
        resolve_type(section['type'], 'runner'), SlurmRunner)
