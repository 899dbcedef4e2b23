"""nerd label: soft labels from a checkpoint, a bundle or both; resumable; learnt by nerd train --soft."""

import json

import numpy as np
import pytest
from typer.testing import CliRunner

from nerd.cli.main import app
from nerd.errors import ConfigError
from nerd.pseudo_labels.labellers import Labeller, ensemble, load_labeller
from nerd.pseudo_labels.resumable_labelling import LabelRequest, label_file
from nerd.records import read_records
from tests.conftest import conll_of, invented_sentences

pytest.importorskip("onnxruntime")
runner = CliRunner()


@pytest.fixture
def unlabelled(tmp_path):
    """Invented sentences as running text: tags never reach the labeller."""
    path = tmp_path / "pool.txt"
    path.write_text("\n".join(" ".join(tokens) for tokens, _ in invented_sentences(23, seed=11)) + "\n")
    return path


def test_a_checkpoint_labels_text_with_distributions_tags_and_provenance(trained_model, unlabelled, tmp_path):
    out = tmp_path / "soft"
    result = runner.invoke(app, ["label", str(unlabelled), "--model", str(trained_model), "--out", str(out)])
    assert result.exit_code == 0, result.output
    records = list(read_records(out / "data.jsonl"))
    assert len(records) == 23
    first = records[0]
    assert first.labels is not None and first.probabilities is not None
    assert len(first.probabilities) == len(first.tokens)
    assert all(abs(sum(row) - 1) < 1e-3 for record in records for row in record.probabilities)
    assert first.provenance.shape == "soft-labels" and first.provenance.line == 1
    assert len(first.provenance.labeller_sha256) == 64 and len(first.provenance.input_sha256) == 64
    # The tiny model learnt the invented names: its tags find people.
    assert any(tag == "B-PER" for record in records for tag in record.tags)
    report = json.loads((out / "report.json").read_text())
    assert report["records"] == 23 and report["input"] == "pool.txt" and not (out / "progress.json").exists()

    data = (out / "data.jsonl").read_bytes()
    again = runner.invoke(app, ["label", str(unlabelled), "--model", str(trained_model), "--out", str(out)])
    assert again.exit_code == 0 and "already finished" in again.output
    assert (out / "data.jsonl").read_bytes() == data

    other = tmp_path / "other.txt"
    other.write_text("Anna met Bob .\n")
    refused = runner.invoke(app, ["label", str(other), "--model", str(trained_model), "--out", str(out)])
    assert refused.exit_code == 1 and "already exists, from another input" in refused.output
    (out / "data.jsonl").write_bytes(data[:-10] + b"\n")  # edited since: no longer this run's output
    edited = runner.invoke(app, ["label", str(unlabelled), "--model", str(trained_model), "--out", str(out)])
    assert edited.exit_code == 1 and "changed since" in edited.output


def test_an_interrupted_labelling_resumes_to_the_same_file(trained_model, unlabelled, tmp_path):
    real = load_labeller(trained_model, threads=1)
    straight = tmp_path / "straight"
    label_file(LabelRequest(unlabelled, straight, real, chunk_size=5))

    calls = {"n": 0}

    def failing(sentences):
        calls["n"] += 1
        if calls["n"] == 3:
            raise KeyboardInterrupt
        return real.distributions(sentences)

    broken = tmp_path / "broken"
    stopping = Labeller(real.name, real.sha256, real.labels, failing)
    with pytest.raises(KeyboardInterrupt):
        label_file(LabelRequest(unlabelled, broken, stopping, chunk_size=5))
    assert json.loads((broken / "progress.json").read_text())["done"] == 10
    # Half a chunk written after the last save is cut off on resume.
    with (broken / "data.jsonl.partial").open("a") as stream:
        stream.write('{"id": "torn"')
    counted = {"n": 0}

    def counting(sentences):
        counted["n"] += len(sentences)
        return real.distributions(sentences)

    label_file(
        LabelRequest(
            unlabelled, broken, Labeller(real.name, real.sha256, real.labels, counting), chunk_size=5
        )
    )
    assert counted["n"] == 13  # only what was not saved
    assert (broken / "data.jsonl").read_bytes() == (straight / "data.jsonl").read_bytes()


def test_another_labelling_in_the_same_directory_needs_force(trained_model, unlabelled, tmp_path):
    real = load_labeller(trained_model, threads=1)
    out = tmp_path / "o"

    def stop(_sentences):
        raise KeyboardInterrupt

    with pytest.raises(KeyboardInterrupt):
        label_file(LabelRequest(unlabelled, out, Labeller(real.name, real.sha256, real.labels, stop)))
    (out / "progress.json").write_text(json.dumps({"input_sha256": "other", "done": 0, "bytes": 0}))
    (out / "data.jsonl.partial").write_text("")
    with pytest.raises(Exception, match="unfinished labelling of another input"):
        label_file(LabelRequest(unlabelled, out, real))
    assert label_file(LabelRequest(unlabelled, out, real, force=True))["records"] == 23


def test_an_ensemble_averages_its_members_and_refuses_other_labels(trained_model, exported_bundles):
    out, _, _ = exported_bundles
    checkpoint = load_labeller(trained_model, threads=1)
    bundle = load_labeller(out / "onnx-fp32", threads=1)
    both = ensemble([checkpoint, bundle])
    words = [["Alma", "visited", "Quenby"]]
    expected = (checkpoint.distributions(words)[0] + bundle.distributions(words)[0]) / 2
    assert np.allclose(both.distributions(words)[0], expected)
    assert both.sha256 not in {checkpoint.sha256, bundle.sha256}
    other = Labeller("other", "0" * 64, ("O", "B-X", "I-X"), checkpoint.distributions)
    with pytest.raises(ConfigError, match="one label list"):
        ensemble([checkpoint, other])


def test_soft_labels_train_a_student_and_the_card_says_so(trained_model, tiny_encoder, unlabelled, tmp_path):
    soft = tmp_path / "soft"
    label_file(LabelRequest(unlabelled, soft, load_labeller(trained_model, threads=1)))
    dev = tmp_path / "dev.conll"
    dev.write_text(conll_of(invented_sentences(20, seed=3)))
    gold = tmp_path / "gold.conll"
    gold.write_text(conll_of(invented_sentences(20, seed=4)))
    out = tmp_path / "student"
    arguments = [
        "train",
        "--soft",
        str(soft / "data.jsonl"),
        "--original",
        str(gold),
        "--dev",
        str(dev),
        "--schedule",
        "simple-mix",
        "--base-model",
        str(tiny_encoder),
        "--epochs",
        "4",
        "--lr",
        "3e-3",
        "--batch-size",
        "8",
        "--max-length",
        "32",
        "--soft-temperature",
        "2",
        "--seeds",
        "1",
        "--out",
        str(out),
    ]
    result = runner.invoke(app, arguments)
    assert result.exit_code == 0, result.output
    (card_path,) = out.rglob("training_card.json")
    card = json.loads(card_path.read_text())
    assert card["data"]["soft"]["sentences"] == 23
    assert card["hyperparameters"]["soft_temperature"] == 2.0
    assert all(row["loss"] is not None and np.isfinite(row["loss"]) for row in card["history"])
    assert [row["distilled_sentences"] for row in card["history"]] == [23, 23, 0, 0]
