import json

import pytest
from typer.testing import CliRunner

from nerd.cli.main import app

runner = CliRunner()


def train(corpus, tiny_encoder, out, *extra):
    return runner.invoke(
        app,
        [
            "train",
            "--original",
            str(corpus["original"]),
            "--distilled",
            str(corpus["distilled"]),
            "--dev",
            str(corpus["dev"]),
            "--base-model",
            str(tiny_encoder),
            "--out",
            str(out),
            "--epochs",
            "2",
            "--lr",
            "3e-3",
            "--batch-size",
            "8",
            "--max-length",
            "32",
            "--precision",
            "fp32",
            "--device",
            "cpu",
            *extra,
        ],
    )


def test_several_seeds_give_a_run_each_and_a_summary(corpus, tiny_encoder, tmp_path):
    out = tmp_path / "runs"
    result = train(corpus, tiny_encoder, out, "--seeds", "1,2", "--schedule", "cosine")
    assert result.exit_code == 0, result.output
    assert "Schedule cosine: 2 epochs" in result.output and "micro avg" in result.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["seeds"] == [1, 2] and set(summary["table"]) >= {"micro", "macro", "weighted", "per_type"}
    assert (out / "seed-1" / "model.safetensors").is_file() and (out / "seed-2" / "config.json").is_file()
    assert (out / "summary.md").read_text().count("±") > 4

    again = train(corpus, tiny_encoder, out, "--seeds", "1,2", "--schedule", "cosine")
    assert again.exit_code == 1 and "--resume" in again.output
    resumed = train(corpus, tiny_encoder, out, "--seeds", "1,2", "--schedule", "cosine", "--resume")
    assert resumed.exit_code == 0 and resumed.output.count("already finished") == 2


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda c: c["original"].write_text("\n"), "original file has no sentences"),
        (lambda c: c["dev"].write_text("Alma B-WHO\n\n"), "dev data uses WHO"),
        (lambda c: c["original"].write_text("Alma B-PER\nwent Q-X\n\n"), "original.conll:2"),
    ],
)
def test_bad_data_fails_before_any_training(corpus, tiny_encoder, tmp_path, change, message):
    change(corpus)
    result = train(corpus, tiny_encoder, tmp_path / "out")
    assert result.exit_code == 1 and message in result.output
    assert not (tmp_path / "out").exists()


def test_bad_options_are_named(corpus, tiny_encoder, tmp_path):
    assert "--seeds" in train(corpus, tiny_encoder, tmp_path / "o", "--seeds", "1,x").output
    assert "power:N" in train(corpus, tiny_encoder, tmp_path / "o", "--schedule", "linear").output
    too_long = train(corpus, tiny_encoder, tmp_path / "o", "--max-length", "512")
    assert too_long.exit_code == 1 and "above the 64 positions" in too_long.output
    missing = runner.invoke(
        app, ["train", "--dev", str(corpus["dev"]), "--out", str(tmp_path / "o"), "--schedule", "original"]
    )
    assert missing.exit_code == 1 and "--original" in missing.output


def test_resume_refuses_a_directory_that_is_not_a_run(corpus, tiny_encoder, tmp_path):
    out = tmp_path / "mine"
    out.mkdir()
    (out / "notes.txt").write_text("keep me")
    result = train(corpus, tiny_encoder, out, "--resume")
    assert result.exit_code == 1 and "holds no nerd run" in result.output
    assert (out / "notes.txt").read_text() == "keep me"
