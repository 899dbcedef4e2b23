"""Hypothesis profiles; a tiny randomly initialised BERT built offline, and invented sentences."""

import os
import random

import pytest
from hypothesis import HealthCheck, settings

# Playwright fixtures (chromium, page) for the page tests.
pytest_plugins = ["tests.browser"]

# The suite's profiles are derandomised: every run draws the same examples, so a suite that passed on one
# machine passes on a fresh clone. Fresh randomness is asked for (`make fuzz`: HYPOTHESIS_PROFILE=fuzz,
# or stress for a release), and what it finds becomes an @example.
settings.register_profile(
    "ci",
    max_examples=150,
    deadline=None,
    derandomize=True,
    database=None,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.register_profile("dev", max_examples=60, deadline=None, derandomize=True, database=None)
settings.register_profile(
    "fuzz", max_examples=600, deadline=None, derandomize=False, suppress_health_check=list(HealthCheck)
)
settings.register_profile(
    "stress", max_examples=1500, deadline=None, derandomize=False, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))


PEOPLE = ["Alma", "Borel", "Cato", "Dima", "Esk", "Farrow"]
PLACES = ["Quenby", "Rusk", "Stavel", "Tarn"]
ORGS = ["Hollin", "Ibex", "Jorum"]
FILLER = ["the", "met", "in", "visited", "with", "said", "today", "a", "report", "from", "and", "went"]


def invented_sentences(count, seed=0, long_every=0):
    """Sentences of filler words with PER/LOC/ORG names; every ``long_every``-th one is very long."""
    rng = random.Random(seed)
    sentences = []
    for index in range(count):
        tokens, tags = [], []
        words = 60 if long_every and index % long_every == 0 else rng.randint(4, 9)
        for _ in range(words):
            roll = rng.random()
            if roll < 0.12:
                tokens.append(rng.choice(PEOPLE))
                tags.append("B-PER")
                if rng.random() < 0.3:
                    tokens.append(rng.choice(PEOPLE))
                    tags.append("I-PER")
            elif roll < 0.2:
                tokens.append(rng.choice(PLACES))
                tags.append("B-LOC")
            elif roll < 0.26:
                tokens.append(rng.choice(ORGS))
                tags.append("B-ORG")
            else:
                tokens.append(rng.choice(FILLER))
                tags.append("O")
        sentences.append((tokens, tags))
    return sentences


def conll_of(sentences):
    return "".join(
        "".join(f"{t} {g}\n" for t, g in zip(tokens, tags, strict=True)) + "\n" for tokens, tags in sentences
    )


@pytest.fixture(scope="session")
def tiny_encoder(tmp_path_factory):
    """A save_pretrained directory of a 2-layer BERT (hidden 32) whose vocabulary covers the sentences."""
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    from transformers import BertConfig, BertForMaskedLM, BertTokenizerFast

    directory = tmp_path_factory.mktemp("tiny-bert")
    words = sorted({w.lower() for w in PEOPLE + PLACES + ORGS + FILLER})
    pieces = ["##" + c for c in "abcdefghijklmnopqrstuvwxyz"] + list("abcdefghijklmnopqrstuvwxyz.,")
    vocab = ["[PAD]", "[UNK]", "[CLS]", "[SEP]", "[MASK]", *words]
    vocab += [piece for piece in pieces if piece not in vocab]
    (directory / "vocab.txt").write_text("\n".join(vocab) + "\n")
    tokenizer = BertTokenizerFast(vocab_file=str(directory / "vocab.txt"), do_lower_case=True)
    tokenizer.save_pretrained(directory)
    config = BertConfig(
        vocab_size=len(vocab),
        hidden_size=32,
        num_hidden_layers=2,
        num_attention_heads=2,
        intermediate_size=64,
        max_position_embeddings=64,
    )
    import torch

    # Seeded: unseeded, every session drew other encoder weights, so the tiny model trained on them
    # (whose answers the service and export tests read) differed, and about one run in six failed.
    torch.manual_seed(0)
    BertForMaskedLM(config).save_pretrained(directory)
    return directory


@pytest.fixture
def corpus(tmp_path):
    """Original, distilled (CoNLL) and dev files of invented sentences."""
    paths = {}
    for name, count, seed in (("original", 40, 1), ("distilled", 40, 2), ("dev", 20, 3)):
        path = tmp_path / f"{name}.conll"
        path.write_text(conll_of(invented_sentences(count, seed)))
        paths[name] = path
    return paths


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory, tiny_encoder):
    """A tiny token classifier trained by nerd's own loop until it finds the invented names."""
    from nerd.training.preparation import prepare
    from nerd.training.presets import Hyperparameters
    from nerd.training.trainer import RunOptions, train_run

    data = tmp_path_factory.mktemp("export-data")
    for name, count, seed in (("train", 60, 1), ("dev", 20, 3)):
        (data / f"{name}.conll").write_text(conll_of(invented_sentences(count, seed, long_every=7)))
    prepared = prepare(
        distilled=[],
        original=[data / "train.conll"],
        dev=data / "dev.conll",
        schedule="original",
        hyperparameters=Hyperparameters(epochs=8, learning_rate=3e-3, batch_size=8, max_length=32),
        base_model=tiny_encoder,
        label_map=None,
    )
    out = tmp_path_factory.mktemp("trained")
    # One thread: a multi-threaded CPU reduction may sum in another order on another run, and this
    # small model's answers (which the service tests read) must be the same on every run.
    result = train_run(prepared, RunOptions(seed=2, out_dir=out, device="cpu", threads=1))
    assert result.best_scores["micro"]["f1"] > 0.6
    return out


@pytest.fixture(scope="session")
def exported_bundles(trained_model, tmp_path_factory):
    """fp32 and int8 bundles of the tiny trained model, verified by nerd export."""
    pytest.importorskip("optimum.exporters.onnx")
    from nerd.export.bundles import ExportRequest, export_bundles
    from nerd.tagging.checkpoint import load_checkpoint

    sample = tmp_path_factory.mktemp("sample") / "verify.conll"
    sample.write_text(conll_of(invented_sentences(30, 9, long_every=5)))
    out = tmp_path_factory.mktemp("bundles")
    request = ExportRequest(
        checkpoint=load_checkpoint(trained_model), variants=["fp32", "int8"], out_dir=out, verify_on=sample
    )
    return out, export_bundles(request), sample


@pytest.fixture(scope="session")
def bundle(exported_bundles):
    """The tiny model's fp32 bundle (the int8 one is exercised by the export tests)."""
    out, _, _ = exported_bundles
    return out / "onnx-fp32"
