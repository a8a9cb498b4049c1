from mmengine.config import read_base

with read_base():
    from .humaneval_openai_sample_evals_gen_dcae0e import \
        humaneval_datasets  # noqa: F401
