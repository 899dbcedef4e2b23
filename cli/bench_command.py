"""``nerd bench``: latency and throughput before deploying, in process and over HTTP, with gates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from nerd.cli.console import console, error_console, exit_on_error
from nerd.errors import ConfigError


def parse_ints(text: str, option: str) -> list[int]:
    """``"1,8,32"`` -> ``[1, 8, 32]``.

    >>> parse_ints("1, 8,32", "--batch-sizes")
    [1, 8, 32]
    """
    try:
        values = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"{option}: expected comma-separated whole numbers, got {text!r}") from None
    if not values or min(values) < 1:
        raise ConfigError(f"{option}: expected numbers of at least 1, got {text!r}")
    return values


def checkpoint_holding(bundle: Path, source_model: str) -> Path | None:
    """The training directory around a bundle that ``nerd export`` left inside it, else None."""
    parent = bundle.resolve().parent
    if parent.name == Path(source_model).name and (parent / "config.json").is_file():
        return parent
    return None


def _is_checkpoint(path: Path) -> bool:
    from nerd.errors import InputError
    from nerd.tagging.opening import ModelKind, model_kind

    try:
        return model_kind(path) is ModelKind.checkpoint
    except InputError:
        return False


def bench_cli(
    model: Annotated[
        Path, typer.Argument(help="A bundle directory (onnx-<variant>/).", file_okay=False, exists=True)
    ],
    checkpoint: Annotated[
        Path | None,
        typer.Option(
            help="The trained checkpoint, for PyTorch and transformers-pipeline rows. Default: the "
            "directory holding the bundle, when it is the training directory the bundle came from "
            "(nerd export's default --out).",
            file_okay=False,
        ),
    ] = None,
    data: Annotated[
        Path | None,
        typer.Option(
            help="CoNLL file whose words make the benchmark sentences. Default: the built-in sample.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    batch_sizes: Annotated[str, typer.Option(help="Sentences per call, comma-separated.")] = "1,8,32",
    lengths: Annotated[str, typer.Option(help="Words per sentence, comma-separated.")] = "10,25,50",
    seconds: Annotated[
        float, typer.Option(help="Measuring time per (backend, batch size, length).", min=0.1)
    ] = 2.0,
    pytorch: Annotated[
        bool, typer.Option(help="Include the PyTorch and pipeline rows when a checkpoint is at hand.")
    ] = True,
    url: Annotated[
        str | None, typer.Option(help="A running nerd serve (e.g. http://127.0.0.1:8000) to load over HTTP.")
    ] = None,
    concurrency: Annotated[
        str, typer.Option(help="Concurrent HTTP clients to sweep, comma-separated.")
    ] = "1,8,32",
    duration: Annotated[float, typer.Option(help="Seconds of load at each concurrency.", min=0.5)] = 10.0,
    api_key_file: Annotated[
        Path | None,
        typer.Option(help="File whose first key authenticates the HTTP load.", dir_okay=False, exists=True),
    ] = None,
    json_out: Annotated[Path | None, typer.Option("--json", help="Write every measurement as JSON.")] = None,
    plot: Annotated[Path | None, typer.Option(help="Write a PNG of latency and throughput.")] = None,
    max_p95_ms: Annotated[
        float | None,
        typer.Option(
            help="Exit 2 when the single-sentence p95 (in process, and at the lowest HTTP concurrency) "
            "is above this."
        ),
    ] = None,
    min_throughput: Annotated[
        float | None,
        typer.Option(
            help="Exit 2 when the best sentences/s (in process, and requests/s over HTTP) is below this."
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="CPU threads. Default: the cores this process may use.")
    ] = None,
    spinning: Annotated[
        bool,
        typer.Option(
            "--spinning/--no-spinning",
            help="Let onnxruntime's threads spin while waiting (as nerd serve --spinning): a little faster "
            "on idle cores, more than twice as slow beside a busy one.",
        ),
    ] = False,
) -> None:
    """Measure a bundle's latency and throughput (and PyTorch's, side by side) before deploying it."""
    with exit_on_error():
        from nerd.atomic import atomic_write_text
        from nerd.evaluation.bench_plot import plot_bench
        from nerd.evaluation.benchmarking import measure, onnx_backend, pipeline_backend, pytorch_backend
        from nerd.evaluation.http_load import run_clients
        from nerd.export.verification import load_sample
        from nerd.model_bundle import read_manifest
        from nerd.tagging.onnx_tagger import CPU, CUDA, default_threads

        sizes, words, clients = (
            parse_ints(batch_sizes, "--batch-sizes"),
            parse_ints(lengths, "--lengths"),
            parse_ints(concurrency, "--concurrency"),
        )
        cores = threads or default_threads()
        manifest = read_manifest(model)
        pool = load_sample(data).sentences
        import onnxruntime

        providers = [CPU]
        if CUDA in onnxruntime.get_available_providers() and manifest.variant != "int8":
            providers.append(CUDA)
        rows: list[dict[str, Any]] = []
        tokens_of = None
        with error_console.status("measuring") as status:
            backends = []
            for provider in providers:
                backend, counter = onnx_backend(model, provider, cores, spinning=spinning)
                backends.append(backend)
                tokens_of = tokens_of or counter
            source = checkpoint or checkpoint_holding(model, manifest.source_model)
            if pytorch and source is not None and _is_checkpoint(source):
                backends += [pytorch_backend(source, cores), pipeline_backend(source, cores)]
            elif pytorch and source is not None:
                error_console.print(f"no checkpoint at {source}: PyTorch rows skipped", markup=False)
            elif pytorch:
                error_console.print(
                    "PyTorch rows skipped: give --checkpoint DIR, the training directory this bundle "
                    f"was exported from ({Path(manifest.source_model).name!r} where it was made)",
                    markup=False,
                )
            for backend in backends:
                status.update(f"measuring {backend.name}")
                try:
                    rows += measure(
                        backend, pool, batch_sizes=sizes, lengths=words, seconds=seconds, tokens_of=tokens_of
                    )
                except (RuntimeError, ValueError) as error:
                    if backend.name.startswith("onnx"):
                        raise
                    # The comparison rows are a courtesy: a pipeline that cannot take a length skips it.
                    error_console.print(f"[yellow]skipped {backend.name}:[/] {error}")
            http_rows = []
            if url:
                key = None
                if api_key_file:
                    key = next(
                        (line.strip() for line in api_key_file.read_text().splitlines() if line.strip()), None
                    )
                texts = [" ".join(sentence) for sentence in pool]
                for count in clients:
                    status.update(f"HTTP load, {count} clients")
                    http_rows.append(run_clients(url, texts, count, seconds=duration, api_key=key))
        report = {
            "model": f"{manifest.name} ({manifest.variant})",
            "cores": cores,
            "in_process": rows,
            "http": http_rows,
        }
        show(rows, http_rows)
        if json_out:
            atomic_write_text(json_out, json.dumps(report, indent=2) + "\n")
        if plot:
            plot_bench(report, plot)
        failures = gate_failures(rows, http_rows, max_p95_ms, min_throughput)
        for failure in failures:
            error_console.print(f"[bold red]gate failed:[/] {failure}")
        if failures:
            raise typer.Exit(code=2)


def gate_failures(
    rows: list[dict[str, Any]],
    http_rows: list[dict[str, Any]],
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


def show(rows: list[dict[str, Any]], http_rows: list[dict[str, Any]]) -> None:
    table = Table(title="In process")
    for column in ("backend", "batch", "words", "p50 ms", "p95 ms", "p99 ms", "sent/s", "tokens/s"):
        table.add_column(column, justify="left" if column == "backend" else "right")
    for r in rows:
        table.add_row(
            r["backend"],
            str(r["batch_size"]),
            str(r["words"]),
            f"{r['p50_ms']:.2f}",
            f"{r['p95_ms']:.2f}",
            f"{r['p99_ms']:.2f}",
            f"{r['sentences_per_s']:.0f}",
            f"{r['tokens_per_s']:.0f}",
        )
    console.print(table)
    if http_rows:
        table = Table(title="Over HTTP (one text per request)")
        for column in ("clients", "requests", "errors", "req/s", "p50 ms", "p95 ms", "p99 ms"):
            table.add_column(column, justify="right")
        for r in http_rows:
            table.add_row(
                str(r["clients"]),
                str(r["requests"]),
                str(sum(r["errors"].values())),
                f"{r['requests_per_s']:.0f}",
                *(str(r[k]) for k in ("p50_ms", "p95_ms", "p99_ms")),
            )
        console.print(table)
