"""``nerd import``: bring a teacher's answers into the closed network as training data."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.table import Table

from nerd.cli.console import console, exit_on_error, progress_bar

if TYPE_CHECKING:
    from nerd.annotation.import_report import ImportReport


class HallucinationPolicy(StrEnum):
    keep_sentence = "keep-sentence"
    drop_sentence = "drop-sentence"


def import_cli(
    sources: Annotated[
        list[Path],
        typer.Argument(
            help="Bundle files or directories (searched recursively for *.jsonl): Batch API requests + "
            "output (+ errors), per-line exports, structured records.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Directory for data.jsonl, rejects.jsonl, duplicates.jsonl, audit.jsonl and report.json.",
            show_default=False,
        ),
    ],
    gold: Annotated[
        Path | None,
        typer.Option(
            help="CoNLL file with human tags: score the teacher against it on the shared sentences."
        ),
    ] = None,
    json_report: Annotated[
        Path | None, typer.Option(help="Also write the JSON report here (it is always in OUT/report.json).")
    ] = None,
    retry_requests: Annotated[
        Path | None,
        typer.Option(help="Write a Batch request file of exactly the rejected requests, ready to re-run."),
    ] = None,
    conll: Annotated[
        bool, typer.Option("--conll", help="Also write the training data as OUT/data.conll.")
    ] = False,
    labels: Annotated[
        Path | None,
        typer.Option(
            help='JSON file of the label set: {"LABEL": "definition", ...}. Default: CoNLL-2003\'s four.'
        ),
    ] = None,
    label_map: Annotated[
        Path | None,
        typer.Option(
            help='JSON file of extra synonyms: {"Person": "PER", ...}; each must map to a known label.'
        ),
    ] = None,
    hallucinations: Annotated[
        HallucinationPolicy,
        typer.Option(
            help="keep-sentence: drop a hallucinated entity and keep the sentence; drop-sentence: reject it."
        ),
    ] = HallucinationPolicy.keep_sentence,
    strict: Annotated[
        bool,
        typer.Option(
            "--strict",
            help="Stop at the first bad line of a requests file (nothing is written) instead of rejecting "
            "it as bad_request and importing the rest.",
        ),
    ] = False,
) -> None:
    """Import a teacher's answers: parse, align entity strings to tokens, account for every record."""
    with exit_on_error(), progress_bar() as progress:
        from nerd.annotation.import_run import run_import

        task = progress.add_task("Importing answers", total=None)
        report = run_import(
            sources=sources,
            out=out,
            gold=gold,
            json_report=json_report,
            retry_requests=retry_requests,
            conll=conll,
            labels=labels,
            label_map=label_map,
            drop_hallucinated=hallucinations is HallucinationPolicy.drop_sentence,
            strict=strict,
            progress=lambda done, total: progress.update(task, completed=done, total=total),
        )
        progress.stop()
        show_report(report)


def show_report(report: ImportReport) -> None:
    """The audit as rich tables."""
    summary = Table(title="Import audit", show_header=False, title_justify="left")
    summary.add_column("what")
    summary.add_column("count", justify="right")
    for key in ("read", "imported", "rejected", "duplicates"):
        summary.add_row(key, str(report[key]))
    for reason, count in report["rejected_by_reason"].items():
        summary.add_row(f"  rejected: {reason}", str(count))
    for kind, count in report["duplicates_by_kind"].items():
        summary.add_row(f"  duplicate: {kind}", str(count))
    entities = report["entities"]
    summary.add_row("entity strings listed", str(entities["listed"]))
    for rung, count in entities["aligned_by_rung"].items():
        summary.add_row(f"  aligned: {rung}", str(count))
    from nerd.annotation.alignment import EventKind

    for kind in (event.value for event in EventKind):
        summary.add_row(f"  {kind.replace('_', ' ')}", str(entities[kind]))
        if kind == "hallucinated" and entities.get("hallucinated_copied_from_prompt"):
            copied = entities["hallucinated_copied_from_prompt"]
            summary.add_row("    of them copied from the prompt's examples", str(copied))
    for label, count in entities["imported_by_type"].items():
        summary.add_row(f"  imported {label}", str(count))
    summary.add_row("retry requests", str(report["retry_requests"]))
    console.print(summary)
    for source in report["files"]:
        if source["lines"] == 0:
            console.print(f"[yellow]warning:[/] {escape(source['file'])} is empty", soft_wrap=True)
        elif source["shape"] is None:
            console.print(
                f"[yellow]warning:[/] {escape(source['file'])} holds no record of a known shape",
                soft_wrap=True,
            )
    if "gold" in report:
        show_gold(report["gold"])
    console.print(f"Outputs in [bold]{report['outputs']['dir']}[/]")


def show_gold(gold: dict[str, Any]) -> None:
    """Teacher against gold, in the layout of the paper's Table 1."""
    table = Table(
        title=f"Teacher vs gold on {gold['sentences']} shared sentences ({gold['gold_file']})",
        title_justify="left",
    )
    for column in ("type", "precision", "recall", "F1", "support"):
        table.add_column(column, justify="left" if column == "type" else "right")
    rows = list(gold.get("per_type", {}).items())
    rows += [(name, gold[name]) for name in ("micro", "macro", "weighted") if name in gold]
    for name, scores in rows:
        table.add_row(
            name,
            f"{scores['precision']:.4f}",
            f"{scores['recall']:.4f}",
            f"{scores['f1']:.4f}",
            str(scores["support"]),
        )
    console.print(table)
