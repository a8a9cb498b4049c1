from mmengine.config import read_base

# The demo: the embedded SmolLM2-135M-Instruct on the packaged demo math set.
with read_base():
    from .datasets.demo_math.demo_math_gen import demo_math_datasets
    from .models.hf_smollm2.hf_smollm2_135m_instruct import models

datasets = [*demo_math_datasets]
