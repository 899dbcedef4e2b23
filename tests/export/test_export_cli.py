from typer.testing import CliRunner

from nerd.cli.main import app

runner = CliRunner()


def test_export_pack_verify_and_unpack_from_the_command_line(trained_model, sample_file, tmp_path):
    out = tmp_path / "bundles"
    arguments = ["export", str(trained_model), "--variants", "int8", "--verify-on", str(sample_file)]
    result = runner.invoke(app, [*arguments, "--out", str(out), "--pack", "--int8-target", "avx2"])
    assert result.exit_code == 0, result.output
    assert "int8" in result.output and (out / "onnx-int8" / "model.onnx").is_file()
    archive = out / f"{trained_model.name}-onnx.tar.gz"
    assert archive.is_file() and (out / f"{archive.name}.sha256").is_file()

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


def test_an_unknown_variant_is_named(trained_model):
    result = runner.invoke(app, ["export", str(trained_model), "--variants", "fp32,int4"])
    assert result.exit_code == 1 and "'int4'" in result.output
