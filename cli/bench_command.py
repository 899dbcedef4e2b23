"""``nerd bench``: latency and throughput before deploying, in process and over HTTP, with gates."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from nerd.cli.choices import RuntimeChoice
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
    runtime: Annotated[
        RuntimeChoice | None,
        typer.Option(
            help="Measure only onnxruntime, or only openvino (the bundle's OpenVINO model, from nerd export "
            "--openvino). Default: every runtime this bundle and this machine have, side by side."
        ),
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
        from nerd.evaluation.bench_run import BenchRequest, gate_failures, run_bench

        key = None
        if api_key_file:
            key = next((line.strip() for line in api_key_file.read_text().splitlines() if line.strip()), None)
        request = BenchRequest(
            model=model,
            checkpoint=checkpoint,
            data=data,
            batch_sizes=tuple(parse_ints(batch_sizes, "--batch-sizes")),
            lengths=tuple(parse_ints(lengths, "--lengths")),
            seconds=seconds,
            pytorch=pytorch,
            url=url,
            concurrency=tuple(parse_ints(concurrency, "--concurrency")),
            duration=duration,
            api_key=key,
            threads=threads,
            spinning=spinning,
            runtime=runtime.value if runtime else None,  # type: ignore[arg-type]
        )
        with error_console.status("measuring") as status:
            report = run_bench(
                request,
                on_status=status.update,
                on_note=lambda note: error_console.print(note, markup=False),
            )
        rows, http_rows = report["in_process"], report["http"]
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
