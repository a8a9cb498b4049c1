from mmengine.config import read_base

with read_base():
    from .math_prm800k_500_0shot_nocot_genericllmeval_gen_6ff468 import \
        math_datasets  # noqa: F401
