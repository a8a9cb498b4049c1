from mmengine.config import read_base

# The 4-shot chat prompt of gsm8k_gen_1d7fe4 (which also caps outputs at 512
# tokens).
with read_base():
    from .gsm8k_gen_1d7fe4 import gsm8k_datasets  # noqa: F401
