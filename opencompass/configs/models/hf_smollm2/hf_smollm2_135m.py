from opencompass.models import HuggingFaceBaseModel

# The embedded SmolLM2-135M-Instruct used as a base model (plain-text prompts,
# few-shot friendly): the same weights as the chat config, without chat template.
models = [
    dict(
        type=HuggingFaceBaseModel,
        abbr='smollm2-135m-hf',
        path='embedded://smollm2-135m-instruct',
        max_out_len=256,
        batch_size=8,
        run_cfg=dict(num_gpus=1),
    )
]
