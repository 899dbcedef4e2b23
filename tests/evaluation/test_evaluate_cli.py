import json

import pytest
from typer.testing import CliRunner

from nerd.cli.main import app

pytest.importorskip("onnxruntime")
runner = CliRunner()


@pytest.fixture
def bundle(exported_bundles):
    out, _, sample = exported_bundles
    return out / "onnx-int8", sample


def test_a_bundle_is_scored_both_ways_with_errors_and_reports(bundle, tmp_path):
    model, sample = bundle
    report_path, markdown, errors = tmp_path / "r.json", tmp_path / "r.md", tmp_path / "errors.txt"
    result = runner.invoke(
        app,
        [
            "evaluate",
            str(model),
            str(sample),
            "--json",
            str(report_path),
            "--markdown",
            str(markdown),
            "--errors",
            str(errors),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    assert set(report["micro"]) >= {"precision", "recall", "f1"} and report["micro"]["f1"] > 0.6
    assert set(report["per_type"]) == {"PER", "LOC", "ORG"}
    assert set(report["strict"]) >= {"micro", "macro", "weighted", "per_type"}
    assert report["timing"]["sentences"] == 30 and report["timing"]["model_seconds"] > 0
    assert "int8" in report["model"]["description"]
    assert "| micro avg |" in markdown.read_text() and "Confusion" in markdown.read_text()
    if sum(report["errors"].values()):
        assert "errors" in errors.read_text()


def test_the_gate_and_the_comparison(bundle, tmp_path):
    model, sample = bundle
    first = tmp_path / "first.json"
    assert runner.invoke(app, ["evaluate", str(model), str(sample), "--json", str(first)]).exit_code == 0
    gated = runner.invoke(app, ["evaluate", str(model), str(sample), "--min-f1", "0.999"])
    assert gated.exit_code == 2 and "below --min-f1" in gated.output
    baseline = json.loads(first.read_text())
    baseline["micro"]["f1"] -= 0.1
    first.write_text(json.dumps(baseline))
    compared = runner.invoke(app, ["evaluate", str(model), str(sample), "--compare", str(first)])
    assert compared.exit_code == 0 and "+0.1000" in compared.output


def test_a_checkpoint_is_scored_through_pytorch_like_its_bundle(bundle, trained_model, tmp_path):
    model, sample = bundle
    reports = {}
    for name, path in (("onnx", model.parent / "onnx-fp32"), ("torch", trained_model)):
        out = tmp_path / f"{name}.json"
        result = runner.invoke(app, ["evaluate", str(path), str(sample), "--json", str(out)])
        assert result.exit_code == 0, result.output
        reports[name] = json.loads(out.read_text())
    assert "PyTorch" in reports["torch"]["model"]["description"]
    assert reports["torch"]["micro"] == reports["onnx"]["micro"]


def test_data_labels_the_model_does_not_know_need_a_map(bundle, tmp_path):
    model, _ = bundle
    data = tmp_path / "misc.conll"
    data.write_text("Alma B-PER\nmet O\nEuro B-MISC\n\n")
    refused = runner.invoke(app, ["evaluate", str(model), str(data)])
    assert refused.exit_code == 1 and "MISC" in refused.output and "--label-map" in refused.output
    mapping = tmp_path / "map.json"
    mapping.write_text('{"MISC": "O"}')
    assert runner.invoke(app, ["evaluate", str(model), str(data), "--label-map", str(mapping)]).exit_code == 0


def test_a_malformed_line_is_named(bundle, tmp_path):
    model, _ = bundle
    data = tmp_path / "bad.conll"
    data.write_text("Alma B-PER\nmet O\nx y z q r s\n\n")
    result = runner.invoke(app, ["evaluate", str(model), str(data)])
    assert result.exit_code == 1 and "bad.conll:3" in result.output.replace("\n", "")


def test_the_terminal_shows_the_confusion_matrix_and_whole_row_names_at_80_columns(bundle):
    model, sample = bundle
    result = runner.invoke(
        app, ["evaluate", str(model), str(sample)], env={"COLUMNS": "80"}, terminal_width=80
    )
    assert result.exit_code == 0, result.output
    assert "Confusion: gold type down, predicted across" in result.output
    assert any(line.split()[:2] == ["micro", "avg"] for line in result.output.splitlines())
    assert max(len(line) for line in result.output.splitlines()) <= 80


@pytest.mark.parametrize("command", ["evaluate", "bench"])
def test_an_empty_data_file_is_an_error_naming_it(bundle, tmp_path, command):
    model, _ = bundle
    empty = tmp_path / "empty.conll"
    empty.write_text("")
    arguments = [str(model), str(empty)] if command == "evaluate" else [str(model), "--data", str(empty)]
    result = runner.invoke(app, [command, *arguments])
    assert result.exit_code == 1
    assert f"{empty}: no sentences: the file is empty" in result.output


def test_recase_sends_every_word_lower_or_upper_cased_and_the_report_says_so(bundle, tmp_path):
    model, sample = bundle
    scores = {}
    for recase in ("lower", "upper"):
        path = tmp_path / f"{recase}.json"
        result = runner.invoke(
            app, ["evaluate", str(model), str(sample), "--recase", recase, "--json", str(path)]
        )
        assert result.exit_code == 0, result.output
        report = json.loads(path.read_text())
        assert report["recased"] == recase
        scores[recase] = report["micro"]["f1"]
    # The tiny model's tokenizer is uncased, and the model reads no word shapes: capitals change nothing.
    assert scores["lower"] == scores["upper"] > 0.5
