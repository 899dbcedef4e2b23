import json
import random
import shutil

import onnx
import pytest

from nerd.atomic import OutputError
from nerd.bundle_checks import verified_bundle
from nerd.bundle_reading import read_bundle
from nerd.errors import InputError
from nerd.export import verification
from nerd.export.bundles import ExportRequest, VerificationFailed, bundle_dir, export_bundles
from nerd.model_bundle import MANIFEST, read_manifest
from nerd.sample_sentences import load_sample
from nerd.tagging.checkpoint import load_checkpoint
from nerd.tagging.onnx_tagger import OnnxTagger


@pytest.fixture
def exported(exported_bundles):
    return exported_bundles


def test_fp32_reproduces_the_pytorch_logits_and_labels(exported):
    _, results, _ = exported
    fp32 = next(r for r in results if r["variant"] == "fp32")
    assert fp32["passed"] and fp32["failures"] == []
    assert fp32["max_abs_logit_difference"] <= verification.FP32_TOLERANCE
    assert fp32["word_labels_differing"] == 0 and fp32["agreement_f1"] == 1.0
    assert fp32["f1"] == fp32["f1_pytorch"] > 0.6


def test_each_bundle_has_its_files_checksums_and_facts(exported, trained_model):
    out, results, sample = exported
    for result in results:
        directory = bundle_dir(out, result["variant"])
        manifest = verified_bundle(directory, keep_bytes=False).manifest
        assert set(manifest.files) >= {"model.onnx", "tokenizer.json", "config.json", "training_card.json"}
        assert manifest.labels == load_checkpoint(trained_model).labels
        assert manifest.max_length == 32 and manifest.opset >= 11
        assert {"torch", "transformers", "optimum", "onnx", "onnxruntime"} <= set(manifest.producers)
        assert manifest.verification["sample"] == str(sample) and manifest.verification["passed"]
    int8 = read_manifest(bundle_dir(out, "int8"))
    assert int8.quantization["mode"] == "static activation scales"
    assert int8.quantization["embeddings_int8_per_row"] == ["/bert/embeddings/word_embeddings/Gather"]
    assert int8.quantization["calibration"]["source"] == sample.name  # the verification file by default
    fixed = int8.quantization["fixed_activation_scales"]
    assert fixed["tensors"] > 0 and fixed["matmuls_to_float"] > 0 and fixed["calibration_windows"] > 0
    operators = {node.op_type for node in onnx.load(str(bundle_dir(out, "int8") / "model.onnx")).graph.node}
    assert "DynamicQuantizeLinear" not in operators
    assert {"QAttention", "MatMulIntegerToFloat", "QuantizeLinear"} <= operators
    size = {r["variant"]: r["model_bytes"] for r in results}
    assert size["int8"] < size["fp32"]  # a tiny model; MiniLM shrinks to a quarter
    assert [p.name for p in out.iterdir() if p.name.startswith(".")] == [".export-journal.json"], (
        "staging left"
    )


def test_the_engine_tags_long_sentences_like_the_trained_model(exported):
    out, _, _ = exported
    tagger = OnnxTagger(bundle_dir(out, "fp32"), threads=1)
    words = ["Alma", "met", "Borel", "in", "Quenby"] * 20  # windows of 32 sub-tokens
    (tags,) = tagger.tag([words])
    assert len(tags) == len(words)
    assert tags[:5] == ["B-PER", "O", "B-PER", "O", "B-LOC"] and tags[-5:] == tags[:5]
    assert tagger.tag([[]]) == [[]]


def test_an_existing_bundle_is_kept_unless_forced(exported, trained_model):
    out, _, sample = exported
    before = (bundle_dir(out, "fp32") / MANIFEST).read_text()
    request = ExportRequest(
        checkpoint=load_checkpoint(trained_model), variants=["fp32"], out_dir=out, verify_on=sample
    )
    with pytest.raises(OutputError, match="already exists"):
        export_bundles(request)
    assert (bundle_dir(out, "fp32") / MANIFEST).read_text() == before
    request.force = True
    export_bundles(request)
    assert json.loads((bundle_dir(out, "fp32") / MANIFEST).read_text())["created"]
    assert read_bundle(bundle_dir(out, "fp32"), keep_bytes=False).problems == []


def test_a_failed_verification_installs_nothing(trained_model, sample_file, tmp_path, monkeypatch):
    monkeypatch.setattr(verification, "FP32_TOLERANCE", -1.0)  # no difference can pass
    request = ExportRequest(
        checkpoint=load_checkpoint(trained_model), variants=["fp32"], out_dir=tmp_path, verify_on=sample_file
    )
    with pytest.raises(VerificationFailed, match="max \\|logit difference\\|") as failure:
        export_bundles(request)
    assert failure.value.results[0]["passed"] is False
    assert list(tmp_path.iterdir()) == [sample_file]


def test_an_int8_model_is_never_handed_to_cuda(exported):
    out, _, _ = exported
    with pytest.raises(InputError, match="CPU only"):
        OnnxTagger(bundle_dir(out, "int8"), providers=("CUDAExecutionProvider",))


def test_a_checkpoint_that_is_not_a_token_classifier_is_refused(tiny_encoder):
    with pytest.raises(InputError, match="not a token classifier"):
        load_checkpoint(tiny_encoder)


def test_missing_tokenizer_and_weights_are_named(trained_model, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(trained_model, copy)
    (copy / "tokenizer.json").unlink()
    with pytest.raises(InputError, match=r"tokenizer\.json"):
        load_checkpoint(copy)
    shutil.copy2(trained_model / "tokenizer.json", copy / "tokenizer.json")
    (copy / "model.safetensors").unlink()
    with pytest.raises(InputError, match="no weights"):
        load_checkpoint(copy)


def test_corrupt_weights_fail_before_the_exporter_runs(trained_model, tmp_path):
    copy = tmp_path / "model"
    shutil.copytree(trained_model, copy)
    (copy / "model.safetensors").write_bytes(b"\x00garbage" * 10)
    with pytest.raises(InputError, match="corrupt weights file"):
        load_checkpoint(copy)


def test_an_output_under_a_file_is_an_output_error(trained_model, tmp_path):
    blocker = tmp_path / "file"
    blocker.write_text("x")
    checkpoint = load_checkpoint(trained_model)
    request = ExportRequest(checkpoint=checkpoint, variants=["fp32"], out_dir=blocker / "out")
    with pytest.raises(OutputError, match="cannot create"):
        export_bundles(request)


def test_the_built_in_sample_is_labelled_conll(tmp_path):
    sample = load_sample(None)
    assert len(sample.sentences) == 40 and sample.sha256 is None
    assert {tag[2:] for tags in sample.gold for tag in tags if tag != "O"} == {"PER", "ORG", "LOC", "MISC"}


def test_int8_answers_a_sentence_the_same_whatever_shares_its_batch(exported):
    out, _, _ = exported
    tagger = OnnxTagger(bundle_dir(out, "int8"), threads=1)
    rng = random.Random(7)
    starts = ["Alma met Borel in Quenby .", "Tarn said so", "Ibex and Jorum went to Rusk today"]
    fillers = ["Esk", "went", "with", "Farrow", "a", "from", "Hollin"]
    for _ in range(20):
        sentence = rng.choice(starts).split() + rng.choices(["Cato", "the", "Stavel"], k=rng.randint(0, 6))
        neighbours = [
            rng.choices([*fillers, "x" * rng.randint(1, 30)], k=rng.randint(1, 60))
            for _ in range(rng.randint(1, 31))
        ]
        half = len(neighbours) // 2
        alone = tagger.analyse([sentence], batch_size=1)[0]
        inside = tagger.analyse([*neighbours[:half], sentence, *neighbours[half:]], batch_size=32)[half]
        assert inside.tags == alone.tags
        # Dynamic scales move these by the neighbours' ranges; fixed ones leave float rounding only.
        assert max(abs(a - b) for a, b in zip(inside.probabilities, alone.probabilities, strict=True)) < 1e-4
