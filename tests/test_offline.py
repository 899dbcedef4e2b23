"""The CLI with no network at all (an unshared network namespace): export and evaluate still work."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest


def _no_network_available():
    if shutil.which("unshare") is None:
        return False
    return subprocess.run(["unshare", "-rn", "true"], capture_output=True).returncode == 0


pytestmark = pytest.mark.skipif(not _no_network_available(), reason="needs unshare -rn (user namespaces)")
NERD = str(Path(sys.executable).with_name("nerd"))


def offline(*arguments):
    return subprocess.run(["unshare", "-rn", NERD, *arguments], capture_output=True, text=True, timeout=600)


def test_export_and_evaluate_run_without_a_network(trained_model, sample_conll, tmp_path):
    exported = offline(
        "export",
        str(trained_model),
        "--variants",
        "int8",
        "--verify-on",
        str(sample_conll),
        "--out",
        str(tmp_path / "bundles"),
    )
    assert exported.returncode == 0, exported.stderr
    for model in (tmp_path / "bundles" / "onnx-int8", trained_model):
        evaluated = offline("evaluate", str(model), str(sample_conll))
        assert evaluated.returncode == 0, evaluated.stderr
        assert "micro" in evaluated.stdout


@pytest.fixture
def sample_conll(tmp_path):
    from tests.conftest import conll_of, invented_sentences

    path = tmp_path / "sample.conll"
    path.write_text(conll_of(invented_sentences(20, 4)))
    return path
