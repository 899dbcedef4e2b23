"""``nerd bench`` as a function: latency and throughput of a bundle in process (onnxruntime, and PyTorch
and transformers' pipeline side by side when the checkpoint is at hand) and over HTTP, and the gates a
deployment script relies on. It prints nothing: ``on_status`` and ``on_note`` hear what it does.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TypedDict

from nerd.errors import InputError
from nerd.evaluation.benchmarking import BenchRow
from nerd.evaluation.http_load import HttpRow
from nerd.model_bundle import read_manifest
from nerd.sample_sentences import load_sample
from nerd.tagging.opening import ModelKind, model_kind
from nerd.tagging.runtime_choice import Runtime


class BenchReport(TypedDict):
    """What ``nerd bench --json`` writes and the CLI shows."""

    model: str
    cores: int
    in_process: list[BenchRow]
    http: list[HttpRow]


@dataclass(frozen=True)
class BenchRequest:
    """What to measure, and how long."""

    model: Path
    checkpoint: Path | None = None
    data: Path | None = None
    batch_sizes: tuple[int, ...] = (1, 8, 32)
    lengths: tuple[int, ...] = (10, 25, 50)
    seconds: float = 2.0
    pytorch: bool = True
    url: str | None = None
    concurrency: tuple[int, ...] = (1, 8, 32)
    duration: float = 10.0
    api_key: str | None = None
    threads: int | None = None
    spinning: bool = False
    # None: every runtime this bundle and this machine have, side by side; else that one.
    runtime: Runtime | None = None


def checkpoint_holding(bundle: Path, source_model: str) -> Path | None:
    """The training directory around a bundle that ``nerd export`` left inside it, else None."""
    parent = bundle.resolve().parent
    if parent.name == Path(source_model).name and (parent / "config.json").is_file():
        return parent
    return None


def _is_checkpoint(path: Path) -> bool:
    try:
        return model_kind(path) is ModelKind.checkpoint
    except InputError:
        return False


def run_bench(
    request: BenchRequest,
    *,
    on_status: Callable[[str], None] = lambda _: None,
    on_note: Callable[[str], None] = lambda _: None,
) -> BenchReport:
    """Every measurement of ``request`` as a report: ``model``, ``cores``, ``in_process`` rows and
    ``http`` rows (one per concurrency)."""
    import onnxruntime

    from nerd.evaluation.benchmarking import bundle_backend, measure, pipeline_backend, pytorch_backend
    from nerd.evaluation.http_load import run_clients
    from nerd.tagging.onnx_tagger import CPU, CUDA, default_threads
    from nerd.tagging.openvino_tagger import openvino_installed

    cores = request.threads or default_threads()
    manifest = read_manifest(request.model)
    pool = load_sample(request.data).sentences
    providers = [CPU]
    if CUDA in onnxruntime.get_available_providers() and manifest.variant != "int8":
        providers.append(CUDA)
    rows: list[BenchRow] = []
    tokens_of = None
    backends = []
    runs = [("onnxruntime", provider) for provider in providers]
    if request.runtime == "openvino":  # the OpenVINO model runs on the CPU only
        runs = [("openvino", CPU)]
    elif request.runtime is None and manifest.openvino is not None and openvino_installed():
        runs.append(("openvino", CPU))
    for runtime, provider in runs:
        backend, counter = bundle_backend(request.model, runtime, provider, cores, spinning=request.spinning)
        backends.append(backend)
        tokens_of = tokens_of or counter
    source = request.checkpoint or checkpoint_holding(request.model, manifest.source_model)
    if request.pytorch and source is not None and _is_checkpoint(source):
        backends += [pytorch_backend(source, cores), pipeline_backend(source, cores)]
    elif request.pytorch and source is not None:
        on_note(f"no checkpoint at {source}: PyTorch rows skipped")
    elif request.pytorch:
        on_note(
            "PyTorch rows skipped: give --checkpoint DIR, the training directory this bundle "
            f"was exported from ({Path(manifest.source_model).name!r} where it was made)"
        )
    for backend in backends:
        on_status(f"measuring {backend.name}")
        try:
            rows += measure(
                backend,
                pool,
                batch_sizes=list(request.batch_sizes),
                lengths=list(request.lengths),
                seconds=request.seconds,
                tokens_of=tokens_of,
            )
        except (RuntimeError, ValueError) as error:
            if backend.name.startswith("onnx"):
                raise
            # The comparison rows are a courtesy: a pipeline that cannot take a length skips it.
            on_note(f"skipped {backend.name}: {error}")
    http_rows: list[HttpRow] = []
    if request.url:
        texts = [" ".join(sentence) for sentence in pool]
        for count in request.concurrency:
            on_status(f"HTTP load, {count} clients")
            http_rows.append(
                run_clients(request.url, texts, count, seconds=request.duration, api_key=request.api_key)
            )
    return {
        "model": f"{manifest.name} ({manifest.variant})",
        "cores": cores,
        "in_process": rows,
        "http": http_rows,
    }


def gate_failures(
    rows: list[BenchRow],
    http_rows: list[HttpRow],
    max_p95_ms: float | None,
    min_throughput: float | None,
) -> list[str]:
    """The gates a deployment script relies on, judged on the ONNX rows and the HTTP sweep."""
    failures = []
    onnx = [r for r in rows if r["backend"].startswith("onnx") and "CPU" in r["backend"]] or [
        r for r in rows if r["backend"].startswith("onnx")
    ]
    if max_p95_ms is not None:
        singles = [r for r in onnx if r["batch_size"] == min(x["batch_size"] for x in onnx)]
        worst = max(r["p95_ms"] for r in singles)
        if worst > max_p95_ms:
            failures.append(f"in-process p95 {worst} ms exceeds --max-p95-ms {max_p95_ms}")
        if http_rows and (http_rows[0]["p95_ms"] is None or http_rows[0]["p95_ms"] > max_p95_ms):
            failures.append(
                f"HTTP p95 {http_rows[0]['p95_ms']} ms at {http_rows[0]['clients']} client(s) exceeds "
                f"--max-p95-ms {max_p95_ms}"
            )
    if min_throughput is not None:
        best = max(r["sentences_per_s"] for r in onnx)
        if best < min_throughput:
            failures.append(f"in-process {best} sentences/s is below --min-throughput {min_throughput}")
        if http_rows and max(r["requests_per_s"] for r in http_rows) < min_throughput:
            failures.append(
                f"HTTP {max(r['requests_per_s'] for r in http_rows)} requests/s is below "
                f"--min-throughput {min_throughput}"
            )
    if any(sum(r["errors"].values()) for r in http_rows):
        failures.append(
            "HTTP errors: "
            + ", ".join(f"{r['clients']} clients {r['errors']}" for r in http_rows if r["errors"])
        )
    return failures
