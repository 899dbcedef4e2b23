import json

import pytest
import torch
from safetensors.torch import load_file

from nerd.atomic import new_file_mode
from nerd.training.card import CARD_JSON
from nerd.training.checkpoints import CHECKPOINT_DIR
from nerd.training.preparation import prepare
from nerd.training.presets import Hyperparameters
from nerd.training.trainer import Observer, RunOptions, TrainingInterrupted, train_run

HYPER = Hyperparameters(epochs=3, learning_rate=3e-3, batch_size=8, max_length=32, precision="fp32")


def prepared(corpus, tiny_encoder, schedule="simple-mix", hyper=HYPER):
    return prepare(
        distilled=[corpus["distilled"]],
        original=[corpus["original"]],
        dev=corpus["dev"],
        schedule=schedule,
        hyperparameters=hyper,
        base_model=tiny_encoder,
        label_map=None,
    )


def test_a_run_writes_a_save_pretrained_model_with_its_card_and_plots(corpus, tiny_encoder, tmp_path):
    out = tmp_path / "model"
    result = train_run(prepared(corpus, tiny_encoder), RunOptions(seed=1, out_dir=out, device="cpu"))
    config = json.loads((out / "config.json").read_text())
    assert config["id2label"]["0"] == "O" and set(config["label2id"]) >= {"B-PER", "I-LOC"}
    for name in (
        "model.safetensors",
        "tokenizer.json",
        "training_card.md",
        "schedule.png",
        "learning_curves.png",
    ):
        assert (out / name).is_file(), name
    modes = {path.name: path.stat().st_mode & 0o777 for path in out.iterdir() if path.is_file()}
    assert set(modes.values()) == {new_file_mode()}, modes  # the weights are no more private than the rest
    assert not (out / CHECKPOINT_DIR).exists()
    card = json.loads((out / CARD_JSON).read_text())
    assert card["status"] == "complete" and card["schedule"]["w0"] == [1.0, 1.0, 0.0]
    assert [row["distilled_sentences"] for row in card["history"]] == [40, 40, 0]
    assert [row["original_sentences"] for row in card["history"]] == [0, 0, 40]
    assert card["data"]["original"]["files"][0]["sha256"] and card["versions"]["torch"]
    assert result.best_scores == card["best_dev"]
    assert card["history"][-1]["loss"] < card["history"][0]["loss"]


def test_the_tiny_model_learns_the_invented_names(corpus, tiny_encoder, tmp_path):
    hyper = HYPER.model_copy(update={"epochs": 8})
    result = train_run(
        prepared(corpus, tiny_encoder, "all", hyper), RunOptions(seed=2, out_dir=tmp_path / "m", device="cpu")
    )
    assert result.best_scores["micro"]["f1"] > 0.6  # an untrained head scores about 0


class StopAt(Observer):
    def __init__(self, epoch):
        self.epoch = epoch

    def epoch_started(self, epoch, epochs, batches):
        if epoch == self.epoch:
            raise KeyboardInterrupt


def test_an_interrupted_run_resumes_to_the_same_model(corpus, tiny_encoder, tmp_path):
    data = prepared(corpus, tiny_encoder)
    straight = train_run(data, RunOptions(seed=5, out_dir=tmp_path / "straight", device="cpu"))
    broken = tmp_path / "broken"
    with pytest.raises(TrainingInterrupted, match="checkpoint of epoch 2"):
        train_run(data, RunOptions(seed=5, out_dir=broken, device="cpu"), StopAt(3))
    assert (broken / CHECKPOINT_DIR / "state.pt").is_file()
    assert json.loads((broken / CARD_JSON).read_text())["status"] == "interrupted"
    resumed = train_run(data, RunOptions(seed=5, out_dir=broken, device="cpu", resume=True))
    assert [r["loss"] for r in resumed.history] == [r["loss"] for r in straight.history]
    first, second = (
        load_file(tmp_path / "straight" / "model.safetensors"),
        load_file(broken / "model.safetensors"),
    )
    assert all(torch.equal(first[name], second[name]) for name in first)


def test_a_checkpoint_of_another_run_is_not_resumed(corpus, tiny_encoder, tmp_path):
    from nerd.errors import ConfigError

    out = tmp_path / "run"
    with pytest.raises(TrainingInterrupted):
        train_run(prepared(corpus, tiny_encoder), RunOptions(seed=1, out_dir=out, device="cpu"), StopAt(2))
    with pytest.raises(ConfigError, match="other data, options or seed"):
        train_run(prepared(corpus, tiny_encoder), RunOptions(seed=2, out_dir=out, device="cpu", resume=True))


def test_patience_stops_early(corpus, tiny_encoder, tmp_path):
    hyper = HYPER.model_copy(update={"epochs": 30, "patience": 1, "learning_rate": 1e-9})
    result = train_run(
        prepared(corpus, tiny_encoder, "original", hyper),
        RunOptions(seed=1, out_dir=tmp_path / "m", device="cpu"),
    )
    assert result.stopped_early and len(result.history) < 30


def test_an_interrupt_in_the_first_epoch_leaves_a_card_and_no_checkpoint(corpus, tiny_encoder, tmp_path):
    out = tmp_path / "run"
    with pytest.raises(TrainingInterrupted, match="nothing to resume"):
        train_run(prepared(corpus, tiny_encoder), RunOptions(seed=1, out_dir=out, device="cpu"), StopAt(1))
    assert json.loads((out / CARD_JSON).read_text())["status"] == "interrupted"
    assert not (out / CHECKPOINT_DIR).exists()


def test_last_epoch_selection_scores_and_keeps_the_final_epoch_only(corpus, tiny_encoder, tmp_path):
    hyper = HYPER.model_copy(update={"epoch_selection": "last"})
    data = prepared(corpus, tiny_encoder, "all", hyper)
    result = train_run(data, RunOptions(seed=1, out_dir=tmp_path / "m", device="cpu"))
    assert [row["dev"] is None for row in result.history] == [True, True, False]
    assert result.best_epoch == 3 and result.best_scores == result.history[-1]["dev"]
    assert "## Dev scores of the last epoch" in (tmp_path / "m" / "training_card.md").read_text()


def test_patience_needs_every_epoch_scored():
    from pydantic import ValidationError

    with pytest.raises(ValidationError, match="patience needs a dev score after every epoch"):
        HYPER.model_validate({**HYPER.model_dump(), "patience": 2, "epoch_selection": "last"})


def test_the_soft_loss_is_the_cross_entropy_to_the_distribution_scaled_by_the_temperature():
    import torch

    from nerd.training.loss import batch_loss as _loss

    class FixedLogits:
        """A stand-in for the encoder: the same logits whatever the input."""

        def __init__(self, logits):
            self.logits = logits

        def __call__(self, **inputs):
            return type("Output", (), {"logits": self.logits})()

    logits = torch.tensor([[[2.0, 0.0, -1.0], [0.5, 0.5, 0.0], [1.0, 2.0, 3.0]]])
    labels = torch.tensor([[-100, 2, -100]])
    targets = torch.zeros((1, 3, 3))
    targets[0, 0] = torch.tensor([0.2, 0.7, 0.1])
    mask = torch.tensor([[True, False, False]])
    for temperature in (1.0, 2.0):
        inputs = {"input_ids": None, "labels": labels, "soft_targets": targets, "soft_mask": mask}
        loss = _loss(FixedLogits(logits), inputs, temperature)
        teacher = torch.softmax(torch.log(targets[0, 0]) / temperature, dim=-1)
        soft = -(teacher * torch.log_softmax(logits[0, 0] / temperature, dim=-1)).sum() * temperature**2
        hard = -torch.log_softmax(logits[0, 1], dim=-1)[2]
        assert float(loss) == pytest.approx(float((soft + hard) / 2), rel=1e-5)
