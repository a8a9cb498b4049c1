"""Abbrs become bounded, legal file names inside the run folder."""
import os

import pytest

from opencompass.tasks.layout import RunLayout
from opencompass.utils.names import MAX_NAME, file_name

HOSTILE = ['../../../../x', '/abs/path', '..', '.', '.hidden', 'a' * 300,
           'a\x00b', 'a/b', 'a\\b', 'new\nline', '数' * 200, '~', '$HOME', '']


@pytest.mark.parametrize('abbr', HOSTILE)
def test_hostile_abbr_stays_one_component_inside_the_run(tmp_path, abbr):
    name = file_name(abbr)
    assert name and '/' not in name and '\x00' not in name
    assert not name.startswith('.')
    assert len(name.encode()) <= MAX_NAME
    layout = RunLayout(str(tmp_path / 'run'))
    for path in (layout.predictions(abbr, abbr), layout.results(abbr, abbr),
                 layout.stats(abbr, abbr)):
        assert os.path.dirname(os.path.dirname(path)).startswith(
            str(tmp_path / 'run'))
        assert len(os.path.basename(path).encode()) < 255


def test_plain_abbrs_are_kept_and_distinct_abbrs_stay_distinct():
    assert file_name('qwen2.5-7b-instruct-hf') == 'qwen2.5-7b-instruct-hf'
    assert file_name('ceval-高中数学') == 'ceval-高中数学'
    names = {file_name(a) for a in ['a/b', 'a_b', 'a\\b', 'a:b', 'a b']}
    assert len(names) == 5


def test_a_symlink_out_of_the_run_folder_is_refused(tmp_path):
    (tmp_path / 'run' / 'results').mkdir(parents=True)
    (tmp_path / 'run' / 'results' / 'm').symlink_to(tmp_path)
    with pytest.raises(ValueError, match='outside the run folder'):
        RunLayout(str(tmp_path / 'run')).results('m', 'd')
