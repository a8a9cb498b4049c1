#!/usr/bin/env python
"""Entry point: `python run.py CONFIG [-a hf|vllm|lmdeploy|sglang|openai]`."""
import sys

from opencompass.cli.main import main

if __name__ == '__main__':
    sys.exit(main())
