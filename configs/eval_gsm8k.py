from mmengine.config import read_base

# GSM8K zero-shot on the embedded chat model.
# Data: $COMPASS_DATA_CACHE/data/gsm8k/{test,train}.jsonl
with read_base():
    from opencompass.configs.datasets.gsm8k.gsm8k_gen import \
        gsm8k_datasets as chat_datasets
    from opencompass.configs.models.hf_smollm2.hf_smollm2_135m_instruct import \
        models

datasets = [*chat_datasets]
