import json

import pytest
from typer.testing import CliRunner

from nerd.cli.main import app
from tests.servers import serving

pytest.importorskip("onnxruntime")
runner = CliRunner()


@pytest.fixture
def served(exported_bundles):
    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    out, _, sample = exported_bundles
    with serving(create_app(ServiceSettings(_env_file=None, model_dir=out / "onnx-int8"))) as url:
        yield out / "onnx-int8", url, sample


def test_bench_measures_in_process_and_over_http_and_writes_json_and_png(served, trained_model, tmp_path):
    bundle, url, sample = served
    report_path, plot = tmp_path / "bench.json", tmp_path / "bench.png"
    result = runner.invoke(
        app,
        [
            "bench",
            str(bundle),
            "--checkpoint",
            str(trained_model),
            "--data",
            str(sample),
            "--batch-sizes",
            "1,4",
            "--lengths",
            "5,20",
            "--seconds",
            "0.2",
            "--url",
            url,
            "--concurrency",
            "1,4",
            "--duration",
            "0.5",
            "--json",
            str(report_path),
            "--plot",
            str(plot),
        ],
    )
    assert result.exit_code == 0, result.output
    report = json.loads(report_path.read_text())
    backends = {row["backend"] for row in report["in_process"]}
    assert {"onnx int8 CPU", "pytorch fp32 CPU", "transformers pipeline CPU"} <= backends
    assert {(r["batch_size"], r["words"]) for r in report["in_process"]} == {(1, 5), (4, 5), (1, 20), (4, 20)}
    assert all(r["p50_ms"] <= r["p95_ms"] <= r["p99_ms"] for r in report["in_process"])
    assert [r["clients"] for r in report["http"]] == [1, 4]
    assert all(r["errors"] == {} and r["requests"] > 0 for r in report["http"])
    assert plot.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_gates_exit_2_when_missed(served):
    bundle, _, _ = served
    arguments = [
        "bench",
        str(bundle),
        "--batch-sizes",
        "1",
        "--lengths",
        "5",
        "--seconds",
        "0.1",
        "--no-pytorch",
    ]
    assert runner.invoke(app, arguments).exit_code == 0
    slow = runner.invoke(app, [*arguments, "--max-p95-ms", "0.0001"])
    assert slow.exit_code == 2 and "--max-p95-ms" in slow.output
    few = runner.invoke(app, [*arguments, "--min-throughput", "1e9"])
    assert few.exit_code == 2 and "--min-throughput" in few.output


def test_bad_lists_are_named(served):
    bundle, _, _ = served
    result = runner.invoke(app, ["bench", str(bundle), "--batch-sizes", "1,x"])
    assert result.exit_code == 1 and "--batch-sizes" in result.output
