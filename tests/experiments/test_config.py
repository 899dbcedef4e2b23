from pathlib import Path

import pytest

from nerd.errors import ConfigError
from nerd.experiments.config import load_config

MINIMAL = """
original = ["gold.conll"]
dev = "valid.txt"
seeds = [1, 2]
[teacher]
conll = "bundle/conll"
bbc = "bundle/bbc"
gold = "bundle/conll/gold.conll"
"""


def write(tmp_path: Path, text: str) -> Path:
    path = tmp_path / "grid.toml"
    path.write_text(text)
    return path


def test_defaults_are_the_paper_groups_with_and_without_decay(tmp_path):
    grid = load_config(write(tmp_path, MINIMAL))
    assert grid.groups == ["A", "B", "C", "D", "E"] and grid.lr_decays == [0.95]
    assert grid.training.preset == "cpu" and grid.training.epoch_selection == "last"


def test_schedules_are_normalised(tmp_path):
    grid = load_config(write(tmp_path, 'schedules = ["sigmoid:8.0", " cosine"]\n' + MINIMAL))
    assert grid.schedules == ["sigmoid:8", "cosine"]


@pytest.mark.parametrize(
    ("extra", "message"),
    [
        ('schedules = ["wobble"]\n', r"field schedules.*unknown schedule 'wobble'"),
        ("lr_decays = [1.5]\n", r"field lr_decays.*between 0 and 1"),
        ('groups = ["F"]\n', r"field groups.0"),
        ("colour = 3\n", r"field colour: Extra inputs are not permitted"),
    ],
)
def test_a_field_that_does_not_fit_is_named(tmp_path, extra, message):
    with pytest.raises(ConfigError, match=message):
        load_config(write(tmp_path, extra + MINIMAL))


def test_duplicate_seeds_are_refused(tmp_path):
    with pytest.raises(ConfigError, match=r"field seeds.*distinct"):
        load_config(write(tmp_path, MINIMAL.replace("[1, 2]", "[1, 1]")))


def test_bad_toml_says_where(tmp_path):
    with pytest.raises(ConfigError, match=r"grid.toml: not valid TOML: .*line 3"):
        load_config(write(tmp_path, 'dev = "x"\nseeds = [1]\noriginal = ]\n'))


def test_a_missing_file_is_a_clear_error(tmp_path):
    with pytest.raises(ConfigError, match="cannot read"):
        load_config(tmp_path / "nope.toml")
