from mmengine.config import read_base

# The 4-shot plain prompt for base models of gsm8k_gen_ee684f.
with read_base():
    from .gsm8k_gen_ee684f import gsm8k_datasets  # noqa: F401
