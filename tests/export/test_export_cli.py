import json

from typer.testing import CliRunner

from nerd.cli.main import app

runner = CliRunner()


def test_export_pack_verify_and_unpack_from_the_command_line(trained_model, sample_file, tmp_path):
    out = tmp_path / "bundles"
    arguments = ["export", str(trained_model), "--variants", "int8", "--verify-on", str(sample_file)]
    calibration = tmp_path / "calibration.conll"
    calibration.write_text("Alma B-PER\nmet O\nBorel B-PER\n\nTarn B-LOC\nwaits O\n")
    options = ["--out", str(out), "--pack", "--int8-target", "avx2", "--calibrate-on", str(calibration)]
    result = runner.invoke(app, [*arguments, *options])
    assert result.exit_code == 0, result.output
    assert "int8" in result.output and (out / "onnx-int8" / "model.onnx").is_file()
    archive = out / "bundles-onnx.tar.gz"  # named after --out, as the bundle is
    assert archive.is_file() and (out / f"{archive.name}.sha256").is_file()
    manifest = json.loads((out / "onnx-int8" / "bundle.json").read_text())
    assert manifest["name"] == "bundles" and manifest["source_model"] == trained_model.name
    assert manifest["quantization"]["calibration"]["source"] == "calibration.conll"
    assert manifest["quantization"]["fixed_activation_scales"]["calibration_windows"] == 2
    card = (out / "onnx-int8" / "training_card.json").read_text() + (
        out / "onnx-int8" / "training_card.md"
    ).read_text()
    assert str(tmp_path.parents[1]) not in card  # no path of the training machine travels
    assert json.loads((out / "onnx-int8" / "training_card.json").read_text())["data"]

    verified = runner.invoke(app, ["verify", str(out / "onnx-int8")])
    assert verified.exit_code == 0 and "OK" in verified.output

    unpacked = runner.invoke(app, ["unpack", str(archive), "--into", str(tmp_path / "models")])
    assert unpacked.exit_code == 0, unpacked.output
    assert (tmp_path / "models" / "onnx-int8" / "bundle.json").is_file()

    with (out / "onnx-int8" / "vocab.txt").open("a") as stream:
        stream.write("tampered\n")
    failed = runner.invoke(app, ["verify", str(out / "onnx-int8")])
    assert failed.exit_code == 1 and "vocab.txt" in failed.output

    again = runner.invoke(app, ["export", str(trained_model), "--variants", "int8", "--out", str(out)])
    assert again.exit_code == 1 and "already exists" in again.output


def test_the_bundle_takes_the_name_it_is_given_and_refuses_a_bad_one(trained_model, tmp_path):
    out = tmp_path / "m"
    arguments = ["export", str(trained_model), "--variants", "fp32", "--out", str(out)]
    refused = runner.invoke(app, [*arguments, "--name", "../escape"])
    assert refused.exit_code == 1 and "bundle name '../escape'" in refused.output
    assert not (out / "onnx-fp32").exists()
    result = runner.invoke(app, [*arguments, "--name", "en-news.v2"])
    assert result.exit_code == 0, result.output
    assert json.loads((out / "onnx-fp32" / "bundle.json").read_text())["name"] == "en-news.v2"


def test_an_unknown_variant_is_named(trained_model):
    result = runner.invoke(app, ["export", str(trained_model), "--variants", "fp32,int4"])
    assert result.exit_code == 1 and "'int4'" in result.output
