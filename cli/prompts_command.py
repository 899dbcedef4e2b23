"""``nerd prompts``: write the annotation requests that go out to the connected machine."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.table import Table

from nerd.annotation.batch_requests import DEFAULT_MODEL, MAX_BYTES_PER_FILE, MAX_REQUESTS_PER_FILE
from nerd.annotation.few_shot import Selection
from nerd.annotation.prompt_inputs import InputFormat
from nerd.annotation.prompt_templates import Template
from nerd.cli.console import console, exit_on_error, progress_bar


def prompts_cli(
    source: Annotated[
        Path,
        typer.Argument(
            help="Sentences to annotate: a CoNLL file, one sentence a line, articles, or JSONL.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out", help="Directory for requests-NNNNN.jsonl and manifest.json.", show_default=False
        ),
    ],
    input_format: Annotated[
        InputFormat,
        typer.Option(
            "--format",
            help="auto: CoNLL if the first line is 'token ... TAG', JSONL by extension, else one sentence a "
            "line; articles: running text split into sentences; jsonl: one article a line (--text-field).",
        ),
    ] = InputFormat.auto,
    text_field: Annotated[str, typer.Option(help="Field holding the text in --format jsonl.")] = "text",
    template: Annotated[
        Template, typer.Option(help="cot: the paper's chain-of-thought prompt; standard: answer only.")
    ] = Template.cot,
    model: Annotated[str, typer.Option(help="Model name written into each request.")] = DEFAULT_MODEL,
    temperature: Annotated[float, typer.Option(help="Sampling temperature of each request.")] = 0.0,
    max_tokens: Annotated[
        int | None, typer.Option(help="Answer length limit per request (none: the API's default).")
    ] = None,
    examples: Annotated[
        Path | None, typer.Option(help="CoNLL file of gold sentences to draw few-shot examples from.")
    ] = None,
    shots: Annotated[int, typer.Option(min=0, help="Few-shot examples per request (needs --examples).")] = 0,
    selection: Annotated[
        Selection,
        typer.Option(
            help="fixed: the same seeded examples for every sentence; similar: the most similar "
            "gold sentences per sentence (TF-IDF)."
        ),
    ] = Selection.fixed,
    seed: Annotated[int, typer.Option(help="Seed for the fixed example sample.")] = 0,
    labels: Annotated[
        Path | None,
        typer.Option(
            help='JSON file of label definitions {"LABEL": "definition"}; default: CoNLL-2003\'s four.'
        ),
    ] = None,
    id_prefix: Annotated[
        str | None, typer.Option(help="Prefix of every custom_id (default: the input file's name).")
    ] = None,
    max_requests_per_file: Annotated[
        int, typer.Option(min=1, help="Split request files at this many requests (Batch API limit: 50,000).")
    ] = MAX_REQUESTS_PER_FILE,
    max_bytes_per_file: Annotated[
        int,
        typer.Option(min=1024, help="Split request files at this size in bytes (Batch API limit: 200 MB)."),
    ] = MAX_BYTES_PER_FILE,
    force: Annotated[bool, typer.Option("--force", help="Replace request files already in --out.")] = False,
) -> None:
    """Write OpenAI Batch API annotation requests (chain-of-thought or standard prompts) for a text."""
    from nerd.annotation.request_writing import PromptOptions, write_prompts
    from nerd.labels import load_label_set

    with exit_on_error():
        options = PromptOptions(
            template=template,
            model=model,
            temperature=temperature,
            max_tokens=max_tokens,
            labels=load_label_set(labels),
            examples=examples,
            shots=shots,
            selection=selection,
            seed=seed,
            id_prefix=id_prefix,
            max_requests_per_file=max_requests_per_file,
            max_bytes_per_file=max_bytes_per_file,
        )
        with progress_bar() as progress:
            task = progress.add_task("Writing requests", total=None)
            manifest = write_prompts(
                source,
                out,
                options,
                fmt=input_format,
                text_field=text_field,
                force=force,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        show_manifest(manifest, out)


def show_manifest(manifest: dict[str, Any], out: Path) -> None:
    """What was written, file by file."""
    counts = manifest["counts"]
    console.print(
        f"{counts['requests']} requests ({manifest['prompt_version']}, {manifest['model']}) from"
        f" {counts['sentences']} sentences; {counts['duplicates_skipped']} duplicate sentences skipped"
    )
    table = Table(title=f"Request files in {out}", title_justify="left")
    for column in ("file", "requests", "bytes", "sha256"):
        table.add_column(column, justify="right" if column in ("requests", "bytes") else "left")
    for part in manifest["files"]:
        table.add_row(part["name"], str(part["requests"]), str(part["bytes"]), part["sha256"][:16])
    console.print(table)
