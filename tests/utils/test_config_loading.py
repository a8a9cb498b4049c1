"""`opencompass.configs` from any folder, without pkg_resources, and the one-line
errors of configs that import what does not exist."""
import site
import subprocess
import sys
import textwrap

import pytest

from opencompass.errors import ConfigError
from opencompass.utils.config import load_config

UPSTREAM_STYLE = '''
from mmengine.config import read_base
import os
from copy import deepcopy

with read_base():
    from opencompass.configs.datasets.gsm8k.gsm8k_gen import gsm8k_datasets
    from opencompass.configs.models.hf_smollm2.hf_smollm2_135m_instruct import \\
        models as chat_models

datasets = deepcopy(gsm8k_datasets)
models = [*chat_models]
work_dir = os.path.join('outputs', 'upstream_style')
'''


def write(folder, name, text):
    path = folder / name
    path.write_text(textwrap.dedent(text))
    return str(path)


def test_upstream_style_config_loads_outside_the_repo(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    cfg = load_config(write(tmp_path, 'my_eval.py', UPSTREAM_STYLE))
    assert cfg.datasets[0]['abbr'] == 'gsm8k'
    assert cfg.models[0]['abbr'] == 'smollm2-135m-instruct-hf'
    assert cfg.work_dir == 'outputs/upstream_style'  # os.path.join worked


def test_loads_without_pkg_resources(tmp_path, monkeypatch):
    """setuptools >= 81 has no pkg_resources: mmengine's own lookup fails, ours
    does not."""
    monkeypatch.setitem(sys.modules, 'pkg_resources', None)  # import fails
    from mmengine.utils import package_utils
    with pytest.raises(ImportError):
        package_utils.get_installed_path('opencompass')
    cfg = load_config(write(tmp_path, 'my_eval.py', UPSTREAM_STYLE))
    assert cfg.datasets[0]['type'].__name__ == 'GSM8KDataset'


def test_package_folder_is_the_imported_one():
    import opencompass
    from opencompass.utils.mmengine_compat import package_folder
    assert package_folder('opencompass') == opencompass.__path__[0]
    with pytest.raises(ModuleNotFoundError):
        package_folder('no_such_package_here')


@pytest.mark.parametrize('body, expected', [
    ('from opencompass.datasets import GSM8KDatasett\n'
     'datasets = [dict(type=GSM8KDatasett)]\n',
     r'bad\.py line 2: opencompass\.datasets has no GSM8KDatasett; nearest: '
     r'GSM8KDataset'),
    ('from opencompass.models import HuggingFaceBaseModell\n'
     'models = [dict(type=HuggingFaceBaseModell)]\n',
     r'line 2: opencompass\.models has no HuggingFaceBaseModell; nearest: '
     r'HuggingFaceBaseModel'),
    ('from opencompass.models import Gemini\nmodels = [dict(type=Gemini)]\n',
     r'line 2: opencompass\.models has no Gemini; this project does not '
     r'support that model type; it has: .*HuggingFacewithChatTemplate'),
    ('from opencompass.modelz import VLLM\nmodels = [dict(type=VLLM)]\n',
     r'line 2: no module named opencompass\.modelz; nearest: opencompass\.models'),
    ('with read_base():\n'
     '    from opencompass.configs.datasets.gsm8k.gsm8k_genn import x\n',
     r'line 3: base config opencompass\.configs\.datasets\.gsm8k\.gsm8k_genn '
     r'does not exist .*; nearest: gsm8k_gen'),
    ('with read_base():\n'
     '    from opencompass.configs.datasets.gsm8k.gsm8k_gen import '
     'gsm8k_datasetz\n',
     r'line 3: .*gsm8k_gen\.py defines no gsm8k_datasetz; nearest: '
     r'gsm8k_datasets'),
    ('from opencompass.datasets import gsm8k_postprocess\n'
     'x = gsm8k_postprocess("1")\n',
     r'line 3: calls gsm8k_postprocess\(\), an object imported in a config '
     r'that uses read_base\(\) is only a placeholder'),
])
def test_bad_imports_are_one_line(tmp_path, body, expected):
    path = write(tmp_path, 'bad.py',
                 'from mmengine.config import read_base\n' + body)
    with pytest.raises(ConfigError, match=expected) as info:
        load_config(path)
    assert '\n' not in str(info.value)


def test_import_typo_under_dry_run_is_one_line_exit_2(tmp_path, cli):
    path = write(tmp_path, 'typo.py', UPSTREAM_STYLE.replace(
        "import os\n", "import os\nfrom opencompass.openicl.icl_inferencer "
        "import GenInferencr\n"))
    proc = cli(path, '--dry-run')
    assert proc.returncode == 2, proc.stderr
    err = proc.stderr.strip().splitlines()
    assert err[-1].startswith('error: config ') and 'Traceback' not in proc.stderr
    assert 'typo.py line 4: opencompass.openicl.icl_inferencer has no ' \
        'GenInferencr; nearest: GenInferencer' in err[-1]


def test_upstream_style_config_dry_run_from_another_folder(tmp_path, cli):
    path = write(tmp_path, 'my_eval.py', UPSTREAM_STYLE)
    proc = cli(path, '--dry-run')
    assert proc.returncode == 0, proc.stderr
    assert 'smollm2-135m-instruct-hf / gsm8k' in proc.stdout


@pytest.mark.slow
def test_installed_wheel_ships_the_configs(tmp_path, repo_root):
    """A wheel installs opencompass/configs/**.py, and a config in another folder
    reads them from the installed copy."""
    wheels, target = tmp_path / 'wheels', tmp_path / 'site'
    subprocess.run([sys.executable, '-m', 'pip', 'wheel', '--no-deps',
                    '--no-build-isolation', '-q', '-w', str(wheels),
                    str(repo_root)], check=True, capture_output=True,
                   cwd=tmp_path)
    wheel = next(wheels.glob('*.whl'))
    subprocess.run([sys.executable, '-m', 'pip', 'install', '--no-deps', '-q',
                    '--target', str(target), str(wheel)], check=True,
                   capture_output=True)
    path = write(tmp_path, 'my_eval.py', UPSTREAM_STYLE)
    # -S: no site hooks, so an editable install of the checkout cannot win;
    # the dependencies come from this interpreter's site-packages.
    paths = [str(target), *site.getsitepackages()]
    code = (f'import sys; sys.path[:0] = {paths!r}; import opencompass; '
            'from opencompass.utils.config import load_config; '
            'c = load_config(sys.argv[1]); '
            'print(opencompass.__file__); print(c.datasets[0]["abbr"])')
    proc = subprocess.run([sys.executable, '-S', '-c', code, path], cwd=tmp_path,
                          env={'PATH': '/usr/bin'}, capture_output=True,
                          text=True)
    assert proc.returncode == 0, proc.stderr
    where, abbr = proc.stdout.split()
    assert where.startswith(str(target)) and abbr == 'gsm8k'


def _shipped_configs():
    import glob
    import os
    root = os.path.join(os.path.dirname(__file__), '..', '..', 'opencompass',
                        'configs')
    return sorted(os.path.relpath(p, root) for p in glob.glob(
        os.path.join(root, '**', '*.py'), recursive=True)
        if not p.endswith('__init__.py'))


@pytest.mark.parametrize('rel', _shipped_configs())
def test_every_shipped_config_loads(rel):
    import opencompass
    cfg = load_config(f'{opencompass.__path__[0]}/configs/{rel}')
    for key, value in cfg.items():
        if key.endswith('_datasets'):
            assert value and all('abbr' in d and 'type' in d for d in value)


def test_upstream_summarizer_idiom(tmp_path):
    text = UPSTREAM_STYLE.replace(
        '        models as chat_models\n',
        '        models as chat_models\n'
        '    from opencompass.configs.summarizers.groups.mmlu import \\\n'
        '        mmlu_summary_groups\n'
        '    from opencompass.configs.summarizers.groups.ceval import \\\n'
        '        ceval_summary_groups\n')
    text += ("summarizer = dict(summary_groups=sum([v for k, v in "
             "locals().items() if k.endswith('_summary_groups')], []))\n")
    cfg = load_config(write(tmp_path, 'my_eval.py', text))
    names = [g['name'] for g in cfg.summarizer['summary_groups']]
    assert 'mmlu' in names and 'ceval' in names and 'mmlu-weighted' in names
