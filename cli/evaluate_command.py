"""``nerd evaluate``: the score of a bundle (as served) or a checkpoint on CoNLL files, and the gate."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated, Any

import typer
from rich import box
from rich.markup import escape
from rich.table import Table

from nerd.cli.choices import DECODING_HELP, DecodingChoice, RecaseChoice, RuntimeChoice
from nerd.cli.console import console, error_console, exit_on_error
from nerd.errors import InputError
from nerd.tagging.runtime_choice import RUNTIME_HELP


def evaluate_cli(
    model: Annotated[
        Path,
        typer.Argument(
            help="A bundle directory (onnx-<variant>/, run as nerd serve runs it) or a training "
            "checkpoint directory (run in PyTorch).",
            file_okay=False,
            exists=True,
        ),
    ],
    data: Annotated[
        list[Path],
        typer.Argument(
            help="CoNLL files (IOB1 or IOB2, 2 or 4 columns, -DOCSTART- or not).", dir_okay=False, exists=True
        ),
    ],
    json_out: Annotated[
        Path | None,
        typer.Option("--json", help="Write the scores, errors, confusion matrix and timing as JSON."),
    ] = None,
    markdown: Annotated[Path | None, typer.Option(help="Write a Markdown report.")] = None,
    errors: Annotated[
        Path | None, typer.Option(help="Write the worst sentences, gold against predicted, to this file.")
    ] = None,
    worst: Annotated[int, typer.Option(help="How many sentences --errors lists.", min=1)] = 50,
    min_f1: Annotated[
        float | None,
        typer.Option(
            help="Exit with code 2 when the micro F1 (default mode) is below this (0-1).", min=0, max=1
        ),
    ] = None,
    compare: Annotated[
        Path | None,
        typer.Option(
            help="An earlier --json report: show the change of every score.", dir_okay=False, exists=True
        ),
    ] = None,
    label_map: Annotated[
        Path | None,
        typer.Option(
            help='JSON object renaming types on both sides, e.g. {"MISC": "O", "GPE": "LOC"}.',
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    threads: Annotated[
        int | None, typer.Option(help="CPU threads. Default: the cores this process may use.")
    ] = None,
    decoding: Annotated[
        DecodingChoice | None,
        typer.Option(help=f"{DECODING_HELP} Default: as nerd serve decodes (NERD_DECODING, else viterbi)."),
    ] = None,
    raw_text: Annotated[
        bool,
        typer.Option(
            "--raw-text",
            help="Also score each sentence as a REST caller sends it: its tokens joined by spaces, split by "
            "the service's tokenizer, entities compared as exact character spans (report key raw_text).",
        ),
    ] = False,
    runtime: Annotated[
        RuntimeChoice | None,
        typer.Option(help=f"{RUNTIME_HELP} Default: as nerd serve runs it (NERD_RUNTIME, else onnxruntime)."),
    ] = None,
    recase: Annotated[
        RecaseChoice | None,
        typer.Option(
            help="Send every word lower- or upper-cased (gold tags unchanged): how much the model leans on "
            "capitals, for text that has none or only capitals."
        ),
    ] = None,
) -> None:
    """Score a model on labelled CoNLL data: seqeval default and strict, errors by kind, type confusion."""
    with exit_on_error():
        from nerd.atomic import atomic_write_text
        from nerd.evaluation.evaluating import compare as compare_reports
        from nerd.evaluation.evaluating import evaluate
        from nerd.evaluation.reports import markdown_report, score_rows, worst_sentences
        from nerd.labels import read_string_map

        mapping = read_string_map(label_map) if label_map else None
        with error_console.status("evaluating"):
            evaluation = evaluate(
                model,
                data,
                label_map=mapping,
                threads=threads,
                decoding=decoding.value if decoding else None,
                runtime=runtime.value if runtime else None,  # type: ignore[arg-type]
                raw_text=raw_text,
                recase=recase.value if recase else None,
            )
        report = evaluation.report
        show_scores(report, score_rows(report))
        if "raw_text" in report:
            show_raw_text(report)
        for warning in report["warnings"]:
            error_console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
        if compare:
            baseline = _read_report(compare)
            show_comparison(compare_reports(report, baseline), compare)
        if json_out:
            atomic_write_text(json_out, json.dumps(report, indent=2) + "\n")
        if markdown:
            atomic_write_text(markdown, markdown_report(report))
        if errors:
            atomic_write_text(errors, worst_sentences(evaluation, worst))
        micro = report["micro"]["f1"]
        if min_f1 is not None and micro < min_f1:
            error_console.print(f"[bold red]gate failed:[/] micro F1 {micro:.4f} is below --min-f1 {min_f1}")
            raise typer.Exit(code=2)


def _read_report(path: Path) -> dict[str, Any]:
    from nerd.json_files import read_json

    report = read_json(path)
    if not isinstance(report, dict) or not isinstance(report.get("micro"), dict):
        raise InputError("not a nerd evaluate --json report (no 'micro' object)", path=path, field="micro")
    return report


def show_scores(report: dict[str, Any], rows: list[tuple[str, dict[str, Any], dict[str, Any]]]) -> None:
    timing = report["timing"]
    # No vertical rules: the eight columns fit 80 columns of terminal without wrapping a row name.
    table = Table(
        box=box.SIMPLE_HEAD,
        pad_edge=False,
        title=report["model"]["description"],
        caption=(
            f"{timing['sentences']} sentences; model {timing['model_seconds']:.2f} s, inference "
            f"{timing['inference_seconds']:.2f} s, end to end {timing['wall_seconds']:.2f} s"
        ),
    )
    # "micro avg" on one row at 80 columns: the numbers' headers wrap instead.
    table.add_column("", no_wrap=True)
    for column in ("P", "R", "F1", "strict P", "strict R", "strict F1"):
        table.add_column(column, justify="right")
    table.add_column("support", justify="right", no_wrap=True)
    for name, default, strict in rows:
        table.add_row(
            name,
            *(f"{default[m]:.4f}" for m in ("precision", "recall", "f1")),
            *(f"{strict.get(m, 0):.4f}" for m in ("precision", "recall", "f1")),
            str(default["support"]),
            end_section=name == rows[-4][0] if len(rows) >= 4 else False,
        )
    console.print(table)
    kinds = ", ".join(f"{kind.replace('_', ' ')} {count}" for kind, count in report["errors"].items())
    console.print(f"errors: {kinds}", soft_wrap=True)
    show_confusion(report["confusion"])


def show_raw_text(report: dict[str, Any]) -> None:
    raw = report["raw_text"]
    console.print(
        f"raw text through the service's tokenizer: micro F1 {raw['scores']['micro']['f1']:.4f} "
        f"(strict; on the data's tokens {report['strict']['micro']['f1']:.4f}); "
        f"{raw['resplit_sentences']} of {raw['sentences']} sentences split otherwise than the data"
    )


def show_confusion(confusion: dict[str, dict[str, int]]) -> None:
    """Gold types down, predicted types across; the diagonal holds the entities found with the right type."""
    types = list(confusion)
    table = Table(box=box.SIMPLE_HEAD)
    table.add_column("gold", no_wrap=True)
    for name in types:
        table.add_column(name, justify="right")
    for gold in types:
        table.add_row(
            gold, *(f"[bold]{confusion[gold][p]}[/]" if p == gold else str(confusion[gold][p]) for p in types)
        )
    # A line of its own: as the table's title it would wrap over a table of few types.
    console.print("Confusion: gold type down, predicted across")
    console.print(table)


def show_comparison(rows: list[tuple[str, float, float, float]], baseline: Path) -> None:
    table = Table(title=f"Against {baseline}")
    for column in ("metric", "before", "now", "change"):
        table.add_column(column, justify="left" if column == "metric" else "right")
    for metric, old, new, delta in rows:
        colour = "green" if delta > 0 else "red" if delta < 0 else ""
        table.add_row(metric, f"{old:.4f}", f"{new:.4f}", f"[{colour}]{delta:+.4f}[/]" if colour else "0")
    console.print(table)
