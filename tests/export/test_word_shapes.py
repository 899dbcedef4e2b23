"""A model trained with word shapes, carried through export, verification, the taggers and the service.

The invented sentences hold names that are also ordinary words ("rusk", "cato"): a name is written with
a capital and tagged, the same word in lower case is not. The tiny tokenizer lower-cases everything, so
only the shape channel can tell them apart; a model without it cannot.
"""

import importlib.util
import random

import pytest

from tests.conftest import FILLER, conll_of

HAS_OPENVINO = all(importlib.util.find_spec(name) for name in ("openvino", "nncf"))
NAMES = {"Cato": "PER", "Dima": "PER", "Rusk": "LOC", "Tarn": "LOC", "Ibex": "ORG"}


def case_sentences(count, seed):
    rng = random.Random(seed)
    sentences = []
    for _ in range(count):
        tokens, tags = [], []
        for _ in range(rng.randint(4, 9)):
            if rng.random() < 0.35:
                name = rng.choice(sorted(NAMES))
                if rng.random() < 0.5:
                    tokens.append(name)
                    tags.append("B-" + NAMES[name])
                else:
                    tokens.append(name.lower())
                    tags.append("O")
            else:
                tokens.append(rng.choice(FILLER))
                tags.append("O")
        sentences.append((tokens, tags))
    return sentences


def train(tiny_encoder, directory, **shapes):
    from nerd.training.preparation import prepare
    from nerd.training.presets import Hyperparameters
    from nerd.training.trainer import RunOptions, train_run

    (directory / "train.conll").write_text(conll_of(case_sentences(80, 1)))
    (directory / "dev.conll").write_text(conll_of(case_sentences(30, 3)))
    prepared = prepare(
        distilled=[],
        original=[directory / "train.conll"],
        dev=directory / "dev.conll",
        schedule="original",
        hyperparameters=Hyperparameters(epochs=10, learning_rate=3e-3, batch_size=8, max_length=32, **shapes),
        base_model=tiny_encoder,
        label_map=None,
    )
    out = directory / "model"
    return out, train_run(prepared, RunOptions(seed=1, out_dir=out, device="cpu", threads=1))


@pytest.fixture(scope="module")
def shaped(tiny_encoder, tmp_path_factory):
    pytest.importorskip("optimum.exporters.onnx")
    from nerd.export.bundles import ExportRequest, export_bundles
    from nerd.tagging.checkpoint import load_checkpoint

    directory = tmp_path_factory.mktemp("shaped")
    model, result = train(tiny_encoder, directory, word_shapes=True, case_dropout=0.1)
    sample = directory / "verify.conll"
    sample.write_text(conll_of(case_sentences(30, 9)))
    request = ExportRequest(
        checkpoint=load_checkpoint(model),
        variants=["fp32", "int8"],
        out_dir=model,
        verify_on=sample,
        openvino=HAS_OPENVINO,  # the OpenVINO model must read the shapes too
    )
    return model, result, export_bundles(request)


SENTENCE = ["Cato", "went", "to", "Rusk", "and", "cato", "met", "rusk"]


def test_the_shape_channel_tells_apart_what_the_uncased_tokenizer_cannot(shaped, tiny_encoder, tmp_path):
    model, result, _ = shaped
    assert result.best_scores["micro"]["f1"] > 0.9
    from nerd.tagging.checkpoint import load_checkpoint

    assert load_checkpoint(model).word_shapes
    _, plain = train(tiny_encoder, tmp_path)
    # Without shapes, "Cato" and "cato" are the same ids: the model cannot do better than guessing.
    assert plain.best_scores["micro"]["f1"] < 0.75


def test_export_records_the_shapes_and_every_variant_passes_verification(shaped):
    from nerd.model_bundle import read_manifest
    from nerd.word_shapes import SHAPE_NAMES

    model, _, reports = shaped
    assert all(report["passed"] for report in reports)
    for variant in ("fp32", "int8"):
        assert read_manifest(model / f"onnx-{variant}").word_shapes == list(SHAPE_NAMES)


def test_bundle_and_checkpoint_taggers_read_capitals(shaped):
    from nerd.tagging.opening import open_tagger

    model, _, _ = shaped
    for where in (model, model / "onnx-fp32", model / "onnx-int8"):
        (tags,) = open_tagger(where, threads=1).tag([SENTENCE])
        assert tags == ["B-PER", "O", "O", "B-LOC", "O", "O", "O", "O"], where


@pytest.mark.skipif(not HAS_OPENVINO, reason="needs nerd[openvino-export]")
def test_the_openvino_model_reads_capitals_too(shaped):
    from nerd.tagging.opening import open_bundle

    model, _, reports = shaped
    assert [r["runtime"] for r in reports] == ["onnxruntime", "onnxruntime", "openvino"]
    (tags,) = open_bundle(model / "onnx-int8", runtime="openvino", threads=1).tag([SENTENCE])
    assert tags == ["B-PER", "O", "O", "B-LOC", "O", "O", "O", "O"]


def test_the_service_computes_shapes_from_the_raw_text(shaped):
    from fastapi.testclient import TestClient

    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings
    from nerd.word_shapes import SHAPE_NAMES

    model, _, _ = shaped
    with TestClient(create_app(ServiceSettings(_env_file=None, model_dir=model / "onnx-int8"))) as client:
        response = client.post("/v1/entities", json={"text": " ".join(SENTENCE)})
        assert client.get("/v1/model").json()["word_shapes"] == list(SHAPE_NAMES)
    found = [(e["text"], e["label"]) for e in response.json()["results"][0]["entities"]]
    assert found == [("Cato", "PER"), ("Rusk", "LOC")]


def test_a_bundle_whose_shapes_this_nerd_does_not_compute_is_refused(shaped, bundle, tmp_path):
    import json
    import shutil

    from nerd.errors import ModelBundleError
    from nerd.tagging.onnx_tagger import OnnxTagger

    model, _, _ = shaped
    copy = tmp_path / "bundle"
    shutil.copytree(model / "onnx-fp32", copy)
    manifest = json.loads((copy / "bundle.json").read_text())
    manifest["word_shapes"] = ["lower", "upper"]
    (copy / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelBundleError, match="word shapes"):
        OnnxTagger(copy)
    # A bundle without shapes keeps the manifest (and so the digest) it always had: no word_shapes key.
    assert "word_shapes" not in json.loads((bundle / "bundle.json").read_text())


def test_word_shapes_need_token_type_embeddings_and_stay_on_once_trained(shaped, tiny_encoder, tmp_path):
    from nerd.errors import ConfigError
    from nerd.training.base_model import check_base_model, check_word_shapes

    model, _, _ = shaped
    with pytest.raises(ConfigError, match="--word-shapes"):
        check_word_shapes(check_base_model(model, 32), wanted=False)
    check_word_shapes(check_base_model(tiny_encoder, 32), wanted=True)
    from transformers import AutoConfig

    config = AutoConfig.from_pretrained(tiny_encoder)
    config.type_vocab_size = 0
    encoder = tmp_path / "no-types"
    import shutil

    shutil.copytree(tiny_encoder, encoder)
    config.save_pretrained(encoder)
    with pytest.raises(ConfigError, match="no token-type embeddings"):
        check_word_shapes(check_base_model(encoder, 32), wanted=True)


def test_nerd_label_reads_capitals_with_a_shaped_checkpoint_and_bundle(shaped, tmp_path):
    from typer.testing import CliRunner

    from nerd.cli.main import app
    from nerd.records import read_records

    model, _, _ = shaped
    pool = tmp_path / "pool.txt"
    pool.write_text(" ".join(SENTENCE) + "\n")
    for where in (model, model / "onnx-int8"):
        out = tmp_path / f"soft-{where.name}"
        result = CliRunner().invoke(app, ["label", str(pool), "--model", str(where), "--out", str(out)])
        assert result.exit_code == 0, result.output
        (record,) = read_records(out / "data.jsonl")
        assert record.tags == ["B-PER", "O", "O", "B-LOC", "O", "O", "O", "O"], where


def test_case_dropout_without_word_shapes_is_refused_and_off_values_keep_old_fingerprints():
    from pydantic import ValidationError

    from nerd.training.presets import Hyperparameters

    base = {"epochs": 1, "learning_rate": 1e-4, "batch_size": 8, "max_length": 32}
    with pytest.raises(ValidationError, match="case dropout hides word shapes"):
        Hyperparameters(**base, case_dropout=0.3)
    # Runs without shapes dump (and so fingerprint) exactly as before the fields existed.
    assert "word_shapes" not in Hyperparameters(**base).model_dump()
    assert Hyperparameters(**base, word_shapes=True, case_dropout=0.5).model_dump()["case_dropout"] == 0.5
