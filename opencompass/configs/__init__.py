"""Model, dataset and summarizer configs, read by `read_base()` as files.

`with read_base(): from opencompass.configs.datasets.gsm8k.gsm8k_gen import
gsm8k_datasets` in any eval config finds them wherever the package is installed.
The folders below are not Python packages; setup.py ships their files as data.
"""
