"""Helpers shared by the CLI, tasks and models: configs, builders, prompts,
progress, the backend switch (run.py)."""
