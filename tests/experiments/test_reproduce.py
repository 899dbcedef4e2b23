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


def test_finished_results_travel_in_a_results_directory_and_a_fresh_out_trains_nothing(grid_files, tmp_path):
    results = tmp_path / "kept-in-git"
    first = CliRunner().invoke(
        app, ["reproduce", str(grid_files), "--out", str(tmp_path / "one"), "--results", str(results)]
    )
    assert first.exit_code == 0, first.output
    grid = load_config(grid_files)
    kept = sorted(path.parent.name for path in results.glob("*/result.json"))
    assert kept == sorted(cell.slug for cell in cells(grid))
    # Only the results travel: no weights, checkpoints or cards beside them.
    assert {path.name for path in results.rglob("*") if path.is_file()} == {"result.json"}

    # Another machine: the data at other paths (the recipe names files by content), a new --out.
    moved = tmp_path / "elsewhere"
    moved.mkdir()
    text = grid_files.read_text()
    for name in ("original.conll", "dev.conll"):
        (moved / name).write_bytes((tmp_path / name).read_bytes())
        text = text.replace(str(tmp_path / name), str(moved / name))
    config = moved / "grid.toml"
    config.write_text(text)
    fresh = tmp_path / "two"
    again = CliRunner().invoke(
        app, ["reproduce", str(config), "--out", str(fresh), "--results", str(results)]
    )
    assert again.exit_code == 0, again.output
    assert "6 already finished, 0 to train" in again.output
    assert not (fresh / "cells").exists()
    only_report = CliRunner().invoke(
        app, ["reproduce", str(config), "--out", str(fresh), "--results", str(results), "--report-only"]
    )
    assert only_report.exit_code == 0, only_report.output

    def tables(report):
        return report.split("## Phase 1")[1]

    assert tables((fresh / "reproduction.md").read_text()) == tables(
        (tmp_path / "one" / "reproduction.md").read_text()
    )
    assert "6 of 6 cells finished" in (fresh / "reproduction.md").read_text()


def test_a_kept_result_from_another_recipe_is_refused_even_for_the_report(grid_files, tmp_path):
    results = tmp_path / "kept"
    grid = load_config(grid_files).model_copy(update={"groups": ["A"], "schedules": [], "lr_decays": []})
    data = GridData(distilled={"none": []}, original=grid.original, dev=grid.dev)
    run_grid(grid, data, tmp_path / "out", results_dir=results)
    (kept,) = results.glob("*/result.json")
    other_dev = tmp_path / "other-dev.conll"
    other_dev.write_text(conll_of(invented_sentences(15, seed=99)))
    changed = grid.model_copy(update={"dev": other_dev})
    with pytest.raises(ConfigError, match=f"{kept}.* was run with a different dev"):
        run_grid(
            changed,
            GridData(distilled={"none": []}, original=grid.original, dev=other_dev),
            tmp_path / "new",
            results_dir=results,
        )
    from nerd.experiments.runner import finished_results

    with pytest.raises(ConfigError, match="was run with a different dev"):
        finished_results(
            changed,
            GridData(distilled={"none": []}, original=grid.original, dev=other_dev),
            tmp_path / "new",
            results,
        )


def test_a_result_only_the_run_holds_is_copied_into_the_results_directory(grid_files, tmp_path):
    grid = load_config(grid_files).model_copy(update={"groups": ["A"], "schedules": [], "lr_decays": []})
    data = GridData(distilled={"none": []}, original=grid.original, dev=grid.dev)
    out = tmp_path / "out"
    run_grid(grid, data, out)  # a grid from before the results directory
    counting = Counting()
    run_grid(grid, data, out, counting, results_dir=tmp_path / "kept")
    assert counting.trained == []
    assert (tmp_path / "kept" / "none_original_constant_seed-1" / "result.json").read_text() == (
        out / "cells" / "none_original_constant_seed-1" / "result.json"
    ).read_text()


def test_only_trains_the_matching_cells_and_a_pattern_matching_none_is_an_error(grid_files, tmp_path):
    grid = load_config(grid_files).model_copy(update={"groups": ["A"], "schedules": []})
    data = GridData(distilled={"none": []}, original=grid.original, dev=grid.dev)
    counting = Counting()
    results = run_grid(grid, data, tmp_path / "out", counting, only=["*_decay-0.9_*"])
    assert counting.trained == [("none_original_decay-0.9_seed-1", False)] and len(results) == 1
    with pytest.raises(ConfigError, match="--only 'sigmoid' matches no cell"):
        run_grid(grid, data, tmp_path / "out", only=["sigmoid"])
