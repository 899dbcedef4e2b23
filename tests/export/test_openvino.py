"""The OpenVINO runtime (issue 28): an int8 bundle carries an NNCF-quantised OpenVINO model beside its
ONNX one, verified on the same gate, and every command that runs a bundle takes ``--runtime``.

The tiny model is the suite's own (tests/conftest.py); its word-shape twin checks that the OpenVINO
model reads capitals too.
"""

import json
import shutil

import pytest

pytest.importorskip("openvino")
pytest.importorskip("nncf")

from tests.conftest import conll_of, invented_sentences


@pytest.fixture(scope="module")
def openvino_export(trained_model, tmp_path_factory):
    from nerd.export.bundles import ExportRequest, export_bundles
    from nerd.tagging.checkpoint import load_checkpoint

    sample = tmp_path_factory.mktemp("ov-sample") / "verify.conll"
    sample.write_text(conll_of(invented_sentences(30, 9, long_every=5)))
    out = tmp_path_factory.mktemp("ov-bundles")
    request = ExportRequest(
        checkpoint=load_checkpoint(trained_model),
        variants=["int8"],
        out_dir=out,
        verify_on=sample,
        openvino=True,
    )
    return out / "onnx-int8", export_bundles(request), sample


def test_the_int8_bundle_lists_and_verifies_its_openvino_model(openvino_export):
    from nerd.bundle_checks import verified_bundle

    bundle, reports, _ = openvino_export
    assert [(r["variant"], r["runtime"]) for r in reports] == [("int8", "onnxruntime"), ("int8", "openvino")]
    assert all(r["passed"] for r in reports), reports
    manifest = verified_bundle(bundle, keep_bytes=False).manifest
    assert manifest.openvino is not None
    assert {"openvino_model.xml", "openvino_model.bin"} <= set(manifest.files)
    assert manifest.openvino.verification["runtime"] == "openvino"
    assert manifest.openvino.verification["passed"]
    assert manifest.verification["runtime"] == "onnxruntime"
    # The IR's weights are int8 (the embedding table too): about what the ONNX int8 model weighs.
    ir_bytes = (bundle / "openvino_model.bin").stat().st_size
    assert ir_bytes < 1.5 * (bundle / "model.onnx").stat().st_size


def test_openvino_tags_as_onnxruntime_does_and_each_sentence_alone_as_in_a_batch(openvino_export):
    from nerd.conll import read_conll
    from nerd.scoring import entity_scores
    from nerd.tagging.opening import open_bundle

    bundle, _, sample = openvino_export
    corpus = read_conll(sample)
    sentences = [list(s.tokens) for s in corpus.sentences]
    on_openvino = open_bundle(bundle, runtime="openvino", threads=1)
    on_onnxruntime = open_bundle(bundle, runtime="onnxruntime", threads=1)
    assert (on_openvino.runtime, on_onnxruntime.runtime) == ("openvino", "onnxruntime")
    batched = on_openvino.tag(sentences, batch_size=8)
    assert [on_openvino.tag([s], batch_size=1)[0] for s in sentences] == batched
    agreement = entity_scores(on_onnxruntime.tag(sentences), batched)["micro"]["f1"]
    assert agreement > 0.9
    assert on_openvino.shapes_compiled >= 2  # one compiled model per (rows, padded length)


def test_onnxruntime_stays_the_default_and_openvino_is_asked_for(openvino_export, bundle, monkeypatch):
    import builtins

    from nerd.errors import ModelBundleError
    from nerd.tagging.onnx_tagger import ProviderUnavailable
    from nerd.tagging.opening import open_bundle

    with_model, _, _ = openvino_export
    assert open_bundle(with_model, threads=1).runtime == "onnxruntime"
    with pytest.raises(ModelBundleError, match="no OpenVINO model"):
        open_bundle(bundle, runtime="openvino", threads=1)
    with pytest.raises(ModelBundleError, match="CPU only"):
        open_bundle(with_model, runtime="openvino", providers=("CUDAExecutionProvider",))
    real_import = builtins.__import__

    def without_openvino(name, *args, **kwargs):  # a host where nerd[openvino] is not installed
        if name == "openvino":
            raise ImportError(name)
        return real_import(name, *args, **kwargs)

    monkeypatch.setattr(builtins, "__import__", without_openvino)
    with pytest.raises(ProviderUnavailable, match=r"nerd\[openvino\]"):
        open_bundle(with_model, runtime="openvino")


def test_an_altered_openvino_model_is_refused(openvino_export, tmp_path):
    from nerd.errors import ModelBundleError
    from nerd.tagging.opening import open_bundle

    bundle, _, _ = openvino_export
    copy = tmp_path / "bundle"
    shutil.copytree(bundle, copy)
    weights = copy / "openvino_model.bin"
    data = bytearray(weights.read_bytes())
    data[len(data) // 2] ^= 1
    weights.write_bytes(bytes(data))
    with pytest.raises(ModelBundleError, match=r"openvino_model\.bin"):
        open_bundle(copy, runtime="openvino")
    manifest = json.loads((bundle / "bundle.json").read_text())
    del manifest["files"]["openvino_model.xml"]
    (copy / "bundle.json").write_text(json.dumps(manifest))
    with pytest.raises(ModelBundleError):
        open_bundle(copy, runtime="openvino")


def test_the_service_runs_openvino_and_names_it(openvino_export):
    from fastapi.testclient import TestClient

    from nerd.model_bundle import read_manifest
    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    bundle, _, _ = openvino_export
    manifest = read_manifest(bundle)
    settings = ServiceSettings(_env_file=None, model_dir=bundle, runtime="openvino")
    with TestClient(create_app(settings)) as client:
        ready = client.get("/readyz").json()
        info = client.get("/v1/model").json()
        answer = client.post("/v1/entities", json={"text": "Alma visited Quenby ."}).json()
    assert (ready["runtime"], info["runtime"], info["provider"]) == ("openvino", "openvino", "OpenVINO CPU")
    assert answer["model"]["sha256"] == manifest.files["openvino_model.xml"]
    settings = ServiceSettings(_env_file=None, model_dir=bundle, runtime="onnxruntime")
    with TestClient(create_app(settings)) as client:
        assert client.get("/v1/model").json()["runtime"] == "onnxruntime"


def test_evaluate_label_and_bench_take_the_runtime(openvino_export, tmp_path):
    from typer.testing import CliRunner

    from nerd.cli.main import app

    bundle, _, sample = openvino_export
    runner = CliRunner()
    report = tmp_path / "report.json"
    result = runner.invoke(
        app, ["evaluate", str(bundle), str(sample), "--runtime", "openvino", "--json", str(report)]
    )
    assert result.exit_code == 0, result.output
    assert "OpenVINO CPU" in json.loads(report.read_text())["model"]["description"]
    pool = tmp_path / "pool.txt"
    pool.write_text("Alma visited Quenby .\n")
    out = tmp_path / "soft"
    result = runner.invoke(
        app, ["label", str(pool), "--model", str(bundle), "--out", str(out), "--runtime", "openvino"]
    )
    assert result.exit_code == 0, result.output
    assert "openvino" in result.output
    bench = tmp_path / "bench.json"
    result = runner.invoke(
        app,
        ["bench", str(bundle), "--data", str(sample), "--batch-sizes", "1", "--lengths", "8",
         "--seconds", "0.2", "--no-pytorch", "--json", str(bench)],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    names = {row["backend"] for row in json.loads(bench.read_text())["in_process"]}
    assert names == {"onnx int8 CPU", "openvino int8 CPU"}


def test_openvino_needs_the_int8_variant(trained_model, tmp_path):
    from nerd.errors import ConfigError
    from nerd.export.bundles import ExportRequest, export_bundles
    from nerd.tagging.checkpoint import load_checkpoint

    request = ExportRequest(
        checkpoint=load_checkpoint(trained_model), variants=["fp32"], out_dir=tmp_path, openvino=True
    )
    with pytest.raises(ConfigError, match="int8"):
        export_bundles(request)


def test_compiled_shapes_are_bounded_and_a_dropped_one_compiles_again(openvino_export):
    from nerd.tagging.openvino_tagger import OpenVinoTagger

    bundle, _, _ = openvino_export
    tagger = OpenVinoTagger(bundle, threads=1, max_shapes=2)
    short, middle, long = ["Alma", "."], ["Alma", "visited", "Quenby", "."] * 4, ["Alma", "ran", "."] * 12
    first = [tagger.tag([sentence])[0] for sentence in (short, middle, long)]
    assert tagger.shapes_compiled == 2
    assert [tagger.tag([sentence])[0] for sentence in (short, middle, long)] == first
