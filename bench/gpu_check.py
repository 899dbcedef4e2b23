"""The GPU check, one prepared run of the whole GPU path: ``nerd train`` a few epochs on CUDA (MiniLM, and
MPNet-base when its directory is given), ``nerd export --variants fp16`` verified on the CUDA provider,
``nerd serve --device cuda`` ready and answering, ``nerd bench`` on CUDA; one JSON of figures.

Without CUDA it runs the CPU twin of each step (fp32 instead of fp16, one epoch on the built-in sample)
and says what it skipped, in about two minutes: the suite runs that, so the script cannot rot before a
GPU comes. Every step is the real ``nerd`` command, as a person would type it.

Usage: python bench/gpu_check.py --out DIR [--data ../shared/data] [--mpnet DIR] [--epochs N]
(``bench/gpu_check.sh`` is the same with the project's venv.)
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from nerd.evaluation.http_load import cpu_and_load, wait_until_ready

ROOT = Path(__file__).resolve().parents[1]
SAMPLE = ROOT / "nerd" / "verification_sample.conll"


def nerd(*arguments: str, timeout: float = 900) -> tuple[float, subprocess.CompletedProcess[str]]:
    """Run one nerd command; its seconds and its result (a failure stops the check with its output)."""
    command = [str(Path(sys.executable).with_name("nerd")), *arguments]
    started = time.perf_counter()
    result = subprocess.run(command, capture_output=True, text=True, timeout=timeout)
    seconds = round(time.perf_counter() - started, 1)
    if result.returncode != 0:
        raise SystemExit(
            f"{' '.join(command)} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
        )
    return seconds, result


def machine() -> dict[str, Any]:
    facts: dict[str, Any] = dict(cpu_and_load())
    try:
        import torch

        facts["cuda"] = torch.cuda.is_available()
        facts["gpu"] = torch.cuda.get_device_name(0) if facts["cuda"] else None
        facts["torch"] = torch.__version__
    except ImportError:
        facts["cuda"], facts["gpu"] = False, None
    import onnxruntime

    facts["onnxruntime_providers"] = onnxruntime.get_available_providers()
    return facts


def training_data(data: Path | None, out: Path, cuda: bool) -> tuple[Path, Path]:
    """A train and a dev file: a slice of CoNLL-2003 on a GPU with the shared data, else the sample."""
    if cuda and data is not None and (data / "conll2003" / "train.txt").is_file():
        blocks = (data / "conll2003" / "train.txt").read_text(encoding="utf-8").split("\n\n")
        train = out / "train.conll"
        train.write_text(
            "\n\n".join(b for b in blocks[:2000] if "-DOCSTART-" not in b) + "\n", encoding="utf-8"
        )
        return train, data / "conll2003" / "valid.txt"
    return SAMPLE, SAMPLE


def serve_once(bundle: Path, device: str, port: int) -> dict[str, Any]:
    """Start nerd serve, wait for /readyz, time one request, stop it."""
    command = [
        str(Path(sys.executable).with_name("nerd")),
        "serve",
        "--model",
        str(bundle),
        "--device",
        device,
    ]
    server = subprocess.Popen(
        [*command, "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE
    )
    started = time.perf_counter()
    try:
        if not wait_until_ready(f"http://127.0.0.1:{port}", seconds=180):
            error = server.stderr.read().decode(errors="replace")[-2000:] if server.poll() is not None else ""
            raise SystemExit(f"nerd serve --device {device} did not become ready: {error}")
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        connection.request("GET", "/readyz")
        ready = json.loads(connection.getresponse().read())
        seconds_to_ready = round(time.perf_counter() - started, 1)
        body = json.dumps({"text": "Angela Merkel met Emmanuel Macron in Paris."})
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
        tick = time.perf_counter()
        connection.request("POST", "/v1/entities", body, {"Content-Type": "application/json"})
        answer = json.loads(connection.getresponse().read())
        one_request_ms = round((time.perf_counter() - tick) * 1000, 2)
        return {
            "seconds_to_ready": seconds_to_ready,
            "provider": ready.get("provider"),
            "one_request_ms": one_request_ms,
            "entities": [e["text"] for e in answer["results"][0]["entities"]],
        }
    finally:
        server.send_signal(signal.SIGINT)
        try:
            server.wait(timeout=20)
        except subprocess.TimeoutExpired:
            server.kill()


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--out", type=Path, required=True, help="Directory for the runs and gpu_check.json.")
    parser.add_argument("--data", type=Path, default=ROOT.parent / "shared" / "data")
    parser.add_argument("--mpnet", type=Path, help="An all-mpnet-base-v2 directory, to train it on CUDA too.")
    parser.add_argument("--epochs", type=int, default=None, help="Default: 3 on CUDA, 1 on the CPU.")
    parser.add_argument("--port", type=int, default=8765)
    arguments = parser.parse_args()
    out = arguments.out
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    facts = machine()
    cuda = bool(facts["cuda"]) and "CUDAExecutionProvider" in facts["onnxruntime_providers"]
    device = "cuda" if cuda else "cpu"
    epochs = str(arguments.epochs or (3 if cuda else 1))
    train, dev = training_data(arguments.data if arguments.data.is_dir() else None, out, cuda)
    report: dict[str, Any] = {"machine": facts, "device": device, "steps": {}, "skipped": []}
    steps = report["steps"]

    def train_step(name: str, *base: str) -> Path:
        run = out / name
        seconds, _ = nerd(
            "train", "--original", str(train), "--dev", str(dev), "--schedule", "original",
            "--preset", "cpu", "--epochs", epochs, "--device", device, "--out", str(run), *base,
        )  # fmt: skip
        card = json.loads((run / "training_card.json").read_text())
        steps[name] = {
            "seconds": seconds,
            "epochs": int(epochs),
            "dev_micro_f1": (card.get("best_dev") or {}).get("micro", {}).get("f1"),
            "device": card.get("device"),
            "precision": card.get("precision"),
        }
        return run

    minilm = train_step("train_minilm")
    if arguments.mpnet is not None and cuda:
        train_step("train_mpnet", "--base-model", str(arguments.mpnet))
    else:
        report["skipped"].append(
            "train_mpnet: " + ("no --mpnet DIR given" if cuda else "no CUDA (minutes an epoch on CPU)")
        )

    variant = "fp16" if cuda else "fp32"
    if not cuda:
        report["skipped"].append(
            "export fp16 on the CUDA provider: no CUDA; fp32 exported and verified on the CPU"
        )
    seconds, _ = nerd(
        "export", str(minilm), "--variants", variant, "--verify-on", str(dev), "--out", str(out / "bundles")
    )
    bundle = out / "bundles" / f"onnx-{variant}"
    verification = json.loads((bundle / "bundle.json").read_text())["verification"]
    steps["export"] = {"seconds": seconds, "variant": variant, "verification": verification}

    steps["serve"] = serve_once(bundle, device, arguments.port)
    if not cuda:
        report["skipped"].append("serve --device cuda: no CUDA; served on the CPU")

    bench_json = out / "bench.json"
    seconds, _ = nerd(
        "bench", str(bundle), "--data", str(dev), "--batch-sizes", "1,8", "--lengths", "10,25",
        "--seconds", "0.5", "--no-pytorch", "--json", str(bench_json),
    )  # fmt: skip
    steps["bench"] = {"seconds": seconds, **json.loads(bench_json.read_text())}
    if not cuda:
        report["skipped"].append("bench on CUDA: no CUDA; measured on the CPU")
    (out / "gpu_check.json").write_text(json.dumps(report, indent=2) + "\n")
    sys.stdout.write(
        json.dumps({"device": device, "skipped": report["skipped"], "out": str(out)}, indent=2) + "\n"
    )


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
