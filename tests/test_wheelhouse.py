"""nerd wheelhouse: hashes pinned, and (slow) an install from it with no index and no network."""

import hashlib
import os
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from nerd.errors import ConfigError
from nerd.wheelhouse import build_wheelhouse, checksums_text, collect_wheels, requirements_text


def fake_wheel(directory: Path, name: str) -> Path:
    path = directory / name
    path.write_bytes(name.encode())
    return path


def test_requirements_pin_every_wheel_by_version_and_hash(tmp_path):
    fake_wheel(tmp_path, "nerd-0.1.0-py3-none-any.whl")
    fake_wheel(tmp_path, "Typer_Slim-0.12.0-py3-none-any.whl")
    wheels = collect_wheels(tmp_path)
    text = requirements_text(wheels, ["cpu", "train"])
    digest = hashlib.sha256(b"nerd-0.1.0-py3-none-any.whl").hexdigest()
    assert f"nerd[cpu,train]==0.1.0 --hash=sha256:{digest}" in text.splitlines()
    assert any(line.startswith("typer-slim==0.12.0 --hash=sha256:") for line in text.splitlines())


def test_checksums_cover_every_file_in_sha256sum_format(tmp_path):
    fake_wheel(tmp_path, "a-1-py3-none-any.whl")
    (tmp_path / "models" / "m").mkdir(parents=True)
    (tmp_path / "models" / "m" / "model.onnx").write_bytes(b"x")
    lines = checksums_text(tmp_path).splitlines()
    assert lines == [
        f"{hashlib.sha256(b'a-1-py3-none-any.whl').hexdigest()}  a-1-py3-none-any.whl",
        f"{hashlib.sha256(b'x').hexdigest()}  models/m/model.onnx",
    ]
    if shutil.which("sha256sum"):
        (tmp_path / "SHA256SUMS").write_text("\n".join(lines) + "\n")
        check = subprocess.run(["sha256sum", "-c", "SHA256SUMS"], cwd=tmp_path, capture_output=True)
        assert check.returncode == 0


@pytest.mark.parametrize(("extras", "message"), [(["cpu", "gpu"], "choose one"), (["fast"], "unknown extra")])
def test_contradicting_or_unknown_extras_are_refused(tmp_path, extras, message):
    with pytest.raises(ConfigError, match=message):
        build_wheelhouse(tmp_path, extras)


def test_a_directory_of_other_files_is_refused_and_left_alone(tmp_path):
    (tmp_path / "thesis.tex").write_text("keep me")
    with pytest.raises(ConfigError, match=r"not a wheelhouse.s \(thesis.tex\)"):
        build_wheelhouse(tmp_path, ["cpu"])
    assert (tmp_path / "thesis.tex").read_text() == "keep me"


@pytest.mark.slow
def test_a_fresh_venv_installs_from_the_wheelhouse_with_no_index_and_no_network(tmp_path):
    """Needs a package index for the build half; the install half runs in an unshared network namespace."""
    house = tmp_path / "wheelhouse"
    built = subprocess.run(
        [str(Path(sys.executable).with_name("nerd")), "wheelhouse", str(house), "--extra", "cpu"],
        capture_output=True,
        text=True,
    )
    assert built.returncode == 0, built.stderr
    subprocess.run([sys.executable, "-m", "venv", str(tmp_path / "venv")], check=True)
    # No pip configuration at all: no index, no extra index, no find-links but the wheelhouse.
    environment = {key: value for key, value in os.environ.items() if not key.startswith("PIP_")}
    environment["PIP_CONFIG_FILE"] = os.devnull
    pip = [str(tmp_path / "venv" / "bin" / "pip"), "install", "--no-index", "--find-links", str(house)]
    install = [*pip, "--require-hashes", "-r", str(house / "requirements.txt")]
    no_network = ["unshare", "-rn"] if shutil.which("unshare") else []
    installed = subprocess.run([*no_network, *install], capture_output=True, text=True, env=environment)
    assert installed.returncode == 0, installed.stdout + installed.stderr
    nerd = str(tmp_path / "venv" / "bin" / "nerd")
    model = house / "models" / "en-conll-minilm-int8"
    verified = subprocess.run([*no_network, nerd, "verify", str(model)], capture_output=True, text=True)
    assert verified.returncode == 0, verified.stderr
    python = str(tmp_path / "venv" / "bin" / "python")
    no_torch = subprocess.run([python, "-c", "import torch"], capture_output=True)
    assert no_torch.returncode != 0  # the serving install stays free of torch
