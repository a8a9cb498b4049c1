"""Packaging: `pip install -e .` installs the `opencompass` package and CLI."""
import os

from setuptools import find_packages, setup


def requirements(name):
    path = os.path.join(os.path.dirname(__file__), 'requirements', name)
    with open(path) as f:
        lines = (line.split('#')[0].strip() for line in f)
        return [line for line in lines if line and not line.startswith('-')]


setup(
    name='opencompass',
    version='0.1.0',
    description='OpenCompass-compatible LLM evaluation with one-flag inference '
    'backends (HF, vLLM, LMDeploy, SGLang, OpenAI-compatible APIs)',
    long_description=open('README.md', encoding='utf-8').read(),
    long_description_content_type='text/markdown',
    packages=find_packages(exclude=('tests', 'tests.*', 'benchmarks')),
    # The model, dataset and summarizer configs ship as data: their folders are
    # not packages, and `read_base()` reads them as files.
    package_data={'opencompass': ['datasets/data/**/*.jsonl',
                                  'configs/**/*.py', 'configs/**/*.md']},
    include_package_data=True,
    python_requires='>=3.9',
    install_requires=requirements('runtime.txt'),
    extras_require={
        'api': requirements('api.txt'),
        'vllm': requirements('vllm.txt'),
        'lmdeploy': requirements('lmdeploy.txt'),
        'sglang': requirements('sglang.txt'),
    },
    entry_points={'console_scripts': ['opencompass=opencompass.cli.main:main']},
)
