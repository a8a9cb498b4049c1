from mmengine.config import read_base

# The demo: the embedded SmolLM2-135M-Instruct on the packaged demo math set.
# Model and dataset configs live in the package (opencompass/configs/), so this
# file works from any folder, as do upstream OpenCompass eval configs.
with read_base():
    from opencompass.configs.datasets.demo_math.demo_math_gen import \
        demo_math_datasets
    from opencompass.configs.models.hf_smollm2.hf_smollm2_135m_instruct import \
        models

datasets = [*demo_math_datasets]
