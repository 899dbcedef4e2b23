"""``nerd extract``: a whole archive through an exported bundle, as shards of entities and a manifest."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated

import typer
from rich.progress import BarColumn, MofNCompleteColumn, Progress, TextColumn, TimeRemainingColumn

from nerd.cli.console import console, error_console, exit_on_error
from nerd.extraction.documents import DEFAULT_MAX_CHARS
from nerd.extraction.run import DEFAULT_BATCH_SIZE, DEFAULT_SHARD_SIZE, Engine
from nerd.extraction.run import Progress as ExtractProgress
from nerd.extraction.shards import OutputFormat


def extract_cli(
    inputs: Annotated[
        list[str],
        typer.Argument(
            help="Files, folders (every file under them) and globs: .txt (a document each), .jsonl, .csv, "
            ".parquet (a document a line or row), .conll (a document a sentence); .gz of any but Parquet.",
        ),
    ],
    model: Annotated[
        Path, typer.Option(help="The exported bundle to extract with.", exists=True, file_okay=False)
    ],
    out: Annotated[
        Path,
        typer.Option(help="Folder for the shards, rejects.jsonl and manifest.json (new, or this run's own)."),
    ],
    output_format: Annotated[
        OutputFormat,
        typer.Option("--format", help="jsonl (one object a document) or parquet (one row a document)."),
    ] = OutputFormat.jsonl,
    text_field: Annotated[str, typer.Option(help="The text's JSONL key or CSV/Parquet column.")] = "text",
    id_field: Annotated[
        str | None,
        typer.Option(help="The id's key or column. Default: none; a document's id is then file:line or row."),
    ] = None,
    max_chars: Annotated[
        int, typer.Option(help="A document over this many characters is rejected.", min=1)
    ] = DEFAULT_MAX_CHARS,
    workers: Annotated[
        int, typer.Option(help="Processes (or Ray actors), each with its own model session.", min=1)
    ] = 1,
    threads: Annotated[
        int | None,
        typer.Option(
            help="onnxruntime threads of each worker. Default: this machine's cores shared among the "
            "workers (1 on Ray).",
            min=1,
        ),
    ] = None,
    shard_size: Annotated[
        int, typer.Option(help="Records a shard covers (what a killed run does again at most).", min=1)
    ] = DEFAULT_SHARD_SIZE,
    batch_size: Annotated[
        int, typer.Option(help="Documents a worker gets at a time.", min=1)
    ] = DEFAULT_BATCH_SIZE,
    engine: Annotated[
        Engine,
        typer.Option(help="local (this machine's processes) or ray (a Ray Data pipeline: the ray extra)."),
    ] = Engine.local,
    ray_address: Annotated[
        str | None,
        typer.Option(help="A Ray cluster to join (ray://... or auto). Default: start Ray here."),
    ] = None,
) -> None:
    """Extract the entities of every document of an archive, as /v1/entities gives them.

    Each record ends in a shard or in rejects.jsonl; manifest.json comes last. Run again to resume.
    """
    with exit_on_error():
        from nerd.extraction.documents import Fields
        from nerd.extraction.run import ExtractRequest, extract
        from nerd.tagging.onnx_tagger import default_threads

        if threads is None:
            threads = 1 if engine is Engine.ray else max(1, default_threads() // workers)
        request = ExtractRequest(
            inputs=[Path(given) for given in inputs],
            bundle=model,
            out_dir=out,
            fields=Fields(text_field, id_field, max_chars),
            output=output_format,
            shard_size=shard_size,
            batch_size=batch_size,
            workers=workers,
            threads=threads,
            engine=engine,
            ray_address=ray_address,
        )
        bar = Progress(
            TextColumn("extracting"),
            BarColumn(),
            MofNCompleteColumn(),
            TextColumn("{task.fields[rate]} docs/s, {task.fields[entities]} entities"),
            TimeRemainingColumn(),
            console=error_console,
            transient=True,
        )
        with bar:
            task = bar.add_task("extracting", total=None, rate="-", entities=0)
            first: list[tuple[float, int]] = []

            def show(progress: ExtractProgress) -> None:
                now = time.perf_counter()
                if not first:
                    first.append((now, progress.read))
                since, read_then = first[0]
                rate = (progress.read - read_then) / (now - since) if now > since else 0.0
                bar.update(
                    task,
                    completed=progress.read,
                    total=progress.total,
                    rate=f"{rate:.0f}",
                    entities=progress.entities,
                )

            manifest = extract(request, on_progress=show)
        counts = manifest["counts"]
        earlier = " (finished earlier; nothing changed)" if manifest.get("finished_earlier") else ""
        console.print(
            f"{counts['read']} read: {counts['extracted']} extracted ({counts['entities']} entities), "
            f"{counts['rejected']} rejected{earlier} -> {out / 'manifest.json'}"
        )
