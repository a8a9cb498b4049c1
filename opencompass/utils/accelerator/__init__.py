"""The `-a BACKEND` converters: one module per backend (vllm, lmdeploy,
sglang, openai) on the shared helpers of `common`. The table that picks a
converter and `change_accelerator` itself are in opencompass/utils/run.py."""
