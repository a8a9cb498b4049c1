from mmengine.config import read_base

# Same prompt as bbh_gen_ee62e9: 3-shot chain of thought.
with read_base():
    from .bbh_gen_ee62e9 import bbh_datasets  # noqa: F401
