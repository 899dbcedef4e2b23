"""The grid end to end on a tiny bundle and encoder: import, train, resume, report."""

import json

import pytest
from typer.testing import CliRunner

from nerd.cli.main import app
from nerd.errors import ConfigError
from nerd.experiments.config import load_config
from nerd.experiments.grid import cells
from nerd.experiments.runner import GridData, GridObserver, run_grid
from tests.conftest import conll_of, invented_sentences
from tests.factories import cot_answer, output_line, per_line, request, write_lines


def entities_of(tokens, tags):
    found: dict[str, list[str]] = {}
    words: list[str] = []
    kind = ""
    for token, tag in [*zip(tokens, tags, strict=True), ("", "O")]:
        if words and not tag.startswith("I-"):
            found.setdefault(kind, []).append(" ".join(words))
            words = []
        if tag.startswith(("B-", "I-")):
            kind = tag[2:]
            words.append(token)
    return found


def python_dict(found):
    return "Result: {" + ", ".join(f"'{k}': {v!r}" for k, v in found.items()) + "}"


@pytest.fixture
def grid_files(tmp_path, tiny_encoder):
    """A teacher bundle (Batch API CoNLL part with gold, per-line BBC part), original and dev data."""
    conll = invented_sentences(30, seed=11)
    bbc = invented_sentences(20, seed=12)
    bundle = tmp_path / "bundle"
    requests = [request(f"c-{i}", " ".join(tokens)) for i, (tokens, _) in enumerate(conll)]
    write_lines(bundle / "conll" / "requests.jsonl", requests)
    write_lines(
        bundle / "conll" / "output.jsonl",
        [output_line(f"c-{i}", cot_answer(python_dict(entities_of(t, g)))) for i, (t, g) in enumerate(conll)],
    )
    (bundle / "conll" / "gold.conll").write_text(conll_of(conll))
    answers = [
        per_line(f"b-{i}", " ".join(tokens), cot_answer(python_dict(entities_of(tokens, tags))))
        for i, (tokens, tags) in enumerate(bbc)
    ]
    write_lines(bundle / "bbc" / "annotations.jsonl", answers)
    (tmp_path / "original.conll").write_text(conll_of(invented_sentences(30, seed=13)))
    (tmp_path / "dev.conll").write_text(conll_of(invented_sentences(15, seed=14)))
    config = tmp_path / "grid.toml"
    config.write_text(
        f"""
original = ["{tmp_path / "original.conll"}"]
dev = "{tmp_path / "dev.conll"}"
seeds = [1]
lr_decays = [0.9]
groups = ["A", "D"]
schedules = ["cosine"]
[teacher]
conll = "{bundle / "conll"}"
bbc = "{bundle / "bbc"}"
gold = "{bundle / "conll" / "gold.conll"}"
[training]
epochs = 2
max_length = 32
precision = "fp32"
learning_rate = 0.003
batch_size = 8
device = "cpu"
base_model = "{tiny_encoder}"
"""
    )
    return config


def test_the_command_imports_trains_every_cell_and_writes_the_report(grid_files, tmp_path):
    out = tmp_path / "out"
    result = CliRunner().invoke(app, ["reproduce", str(grid_files), "--out", str(out)])
    assert result.exit_code == 0, result.output
    grid = load_config(grid_files)
    assert len(cells(grid)) == 6
    for cell in cells(grid):
        run = out / "cells" / cell.slug
        finished = json.loads((run / "result.json").read_text())
        assert finished["scored_epoch"] == 2 and 0 <= finished["dev"]["micro"]["f1"] <= 1
        assert not (run / "model.safetensors").exists() and (run / "training_card.md").is_file()
    report = (out / "reproduction.md").read_text()
    assert "6 of 6 cells finished" in report
    assert "| A | original only | " in report
    assert "| cosine | distilled CoNLL + BBC shifting to original, epoch by epoch |" in report
    assert "## Phase 1: the teacher against gold" in report
    assert "| micro | 1.0000 | 1.0000 | 1.0000 |" in report  # the invented teacher answers are the gold
    for name in ("phase1_teacher.csv", "phase2_groups.csv", "phase3_schedules.csv"):
        assert len((out / name).read_text().splitlines()) > 1, name
    for name in ("phase2_groups.png", "phase3_schedules.png", "schedule_curves.png"):
        assert (out / name).read_bytes().startswith(b"\x89PNG"), name

    again = CliRunner().invoke(app, ["reproduce", str(grid_files), "--out", str(out)])
    assert again.exit_code == 0 and "6 already finished, 0 to train" in again.output

    moved = tmp_path / "other-bundle"
    grid_files.write_text(grid_files.read_text().replace(str(tmp_path / "bundle" / "bbc"), str(moved)))
    other = CliRunner().invoke(app, ["reproduce", str(grid_files), "--out", str(out)])
    assert other.exit_code == 1 and "use another --out for another teacher's answer files" in other.output


class Counting(GridObserver):
    def __init__(self):
        self.trained = []

    def cell_started(self, cell, resumed):
        self.trained.append((cell.slug, resumed))


class StopInEpoch(GridObserver):
    """Ctrl-C in the second epoch of the first cell."""

    def cell_started(self, cell, resumed):
        from nerd.training.trainer import Observer

        class Stop(Observer):
            def epoch_started(self, epoch, epochs, batches):
                if epoch == 2:
                    raise KeyboardInterrupt

        return Stop()


def test_a_stopped_grid_resumes_its_cell_and_refuses_a_changed_recipe(grid_files, tmp_path):
    from nerd.training.trainer import TrainingInterrupted

    grid = load_config(grid_files).model_copy(update={"groups": ["A"], "schedules": [], "lr_decays": []})
    data = GridData(distilled={"none": []}, original=grid.original, dev=grid.dev)
    out = tmp_path / "out"
    with pytest.raises(TrainingInterrupted):
        run_grid(grid, data, out, StopInEpoch())
    counting = Counting()
    results = run_grid(grid, data, out, counting)
    assert counting.trained == [("none_original_constant_seed-1", True)] and len(results) == 1

    changed = grid.model_copy(update={"training": grid.training.model_copy(update={"epochs": 3})})
    with pytest.raises(ConfigError, match="was run with a different hyperparameters"):
        run_grid(changed, data, out)
