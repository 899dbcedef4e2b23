"""``nerd train`` under ``torchrun --nproc_per_node 2`` (gloo on the CPU): data-parallel through
accelerate, one model and one card, scoring like a single process. Slow: two trainings of the tiny model."""

import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from tests.conftest import conll_of, invented_sentences

pytestmark = pytest.mark.slow


def train(command, out, data, tiny_encoder):
    arguments = [
        "train", "--original", str(data / "train.conll"), "--dev", str(data / "dev.conll"),
        "--schedule", "original", "--base-model", str(tiny_encoder), "--epochs", "8", "--lr", "3e-3",
        "--batch-size", "8", "--max-length", "32", "--seeds", "2", "--out", str(out),
    ]  # fmt: skip
    env = {**os.environ, "OMP_NUM_THREADS": "1"}
    done = subprocess.run([*command, *arguments], capture_output=True, text=True, env=env, timeout=600)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return json.loads((out / "training_card.json").read_text())


def test_two_processes_train_one_model_that_scores_like_one_process(tmp_path, tiny_encoder):
    data = tmp_path / "data"
    data.mkdir()
    for name, count, seed in (("train", 60, 1), ("dev", 20, 3)):
        (data / f"{name}.conll").write_text(conll_of(invented_sentences(count, seed, long_every=7)))
    nerd = str(Path(sys.executable).with_name("nerd"))
    torchrun = str(Path(sys.executable).with_name("torchrun"))
    single = train([nerd], tmp_path / "single", data, tiny_encoder)
    parallel = train([torchrun, "--nproc_per_node", "2", nerd], tmp_path / "parallel", data, tiny_encoder)
    assert single["processes"] == 1 and parallel["processes"] == 2
    assert parallel["status"] == "complete"
    written = sorted(path.name for path in (tmp_path / "parallel").iterdir())
    assert written.count("model.safetensors") == 1 and written.count("training_card.json") == 1
    single_f1, parallel_f1 = single["best_dev"]["micro"]["f1"], parallel["best_dev"]["micro"]["f1"]
    assert single_f1 > 0.6 and abs(parallel_f1 - single_f1) < 0.15, (single_f1, parallel_f1)
