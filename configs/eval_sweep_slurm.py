"""A sweep on a Slurm cluster: every model x dataset, each dataset in 4 shards,
one Slurm job per shard with its own GPU(s) (run_cfg.num_gpus of each model).

    python run.py configs/eval_sweep_slurm.py                 # as configured
    python run.py configs/eval_sweep_slurm.py -p mypartition  # another partition
    python run.py configs/eval_sweep_slurm.py -r              # finish what is left

The cluster needs only Slurm and a filesystem shared by the nodes that holds
this folder, the outputs and the Python environment.
"""
from mmengine.config import read_base

from opencompass.partitioners import NumWorkerPartitioner
from opencompass.runners import SlurmRunner
from opencompass.tasks import OpenICLInferTask

with read_base():
    from opencompass.configs.datasets.demo_math.demo_math_gen import \
        demo_math_datasets
    from opencompass.configs.datasets.gsm8k.gsm8k_gen import gsm8k_datasets
    from opencompass.configs.models.hf_smollm2.hf_smollm2_135m import \
        models as smollm2_base
    from opencompass.configs.models.hf_smollm2.hf_smollm2_135m_instruct import \
        models as smollm2_instruct

datasets = [*gsm8k_datasets, *demo_math_datasets]
models = [*smollm2_instruct, *smollm2_base]

infer = dict(
    partitioner=dict(type=NumWorkerPartitioner, num_worker=4),
    runner=dict(type=SlurmRunner, partition='gpu', max_num_workers=16, retry=2,
                task=dict(type=OpenICLInferTask)),
)
