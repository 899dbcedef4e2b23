"""The container entrypoint, checked with a stand-in `nerd` (docker/check-image.sh builds the image)."""

import os
import shutil
import subprocess
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
ENTRYPOINT = ROOT / "docker" / "entrypoint.sh"

pytestmark = pytest.mark.skipif(shutil.which("sh") is None, reason="needs a POSIX shell")


def run_entrypoint(tmp_path, *arguments, environment=None):
    fake = tmp_path / "bin" / "nerd"
    fake.parent.mkdir(exist_ok=True)
    fake.write_text('#!/bin/sh\necho "args: $*"\necho "keys: ${NERD_API_KEY_FILE:-none}"\n')
    fake.chmod(0o755)
    env = {"PATH": f"{fake.parent}:{os.environ['PATH']}", **(environment or {})}
    return subprocess.run(["sh", str(ENTRYPOINT), *arguments], capture_output=True, text=True, env=env)


def test_serve_listens_on_every_interface_and_warns_without_a_key_file(tmp_path):
    result = run_entrypoint(tmp_path, environment={"NERD_API_KEY_FILE": str(tmp_path / "absent")})
    assert result.returncode == 0
    assert "args: serve --host 0.0.0.0 --port 8000" in result.stdout and "keys: none" in result.stdout
    assert "open to anyone" in result.stderr


def test_a_mounted_key_file_turns_authentication_on(tmp_path):
    keys = tmp_path / "keys"
    keys.write_text("k1\n")
    result = run_entrypoint(
        tmp_path, "serve", "--workers", "2", environment={"NERD_API_KEY_FILE": str(keys), "NERD_PORT": "9000"}
    )
    assert "args: serve --host 0.0.0.0 --port 9000 --workers 2" in result.stdout
    assert f"keys: {keys}" in result.stdout and result.stderr == ""


def test_other_commands_go_to_nerd_unchanged(tmp_path):
    result = run_entrypoint(tmp_path, "verify", "/models/default")
    assert result.stdout.splitlines()[0] == "args: verify /models/default"


def test_the_cpu_image_serves_as_a_non_root_user_with_a_readiness_healthcheck():
    text = (ROOT / "Dockerfile").read_text()
    cpu = text[text.index("AS cpu\n") : text.index("AS gpu-venv")]
    assert "USER nerd" in cpu and "/readyz" in cpu and "HEALTHCHECK" in cpu
    assert "COPY models/en-conll-minilm-int8 /models/default" in cpu
    # The image carries both CPU runtimes (onnxruntime the default, OpenVINO on --runtime openvino).
    assert '"/src[cpu,openvino${RAY:+,ray}]"' in text and "import onnxruntime, openvino" in text
    assert "torch" not in cpu


def test_the_image_copies_every_folder_the_package_is_built_from():
    import tomllib

    folders = set(
        tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["setuptools"]["package-dir"].values()
    )
    copied = {
        line.split()[1]
        for line in (ROOT / "Dockerfile").read_text().splitlines()
        if line.startswith("COPY ") and line.split()[2].startswith("/src/")
    }
    assert folders <= copied, sorted(folders - copied)
