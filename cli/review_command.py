"""``nerd review``: people correct the teacher and write gold data, in a browser, inside the network."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.table import Table

from nerd.annotation.prompt_inputs import InputFormat
from nerd.cli.console import console, error_console, exit_on_error, progress_bar

review_app = typer.Typer(
    name="review",
    help="Review sentences in a browser: the teacher's and a model's entities as suggestions, a person's "
    "decisions in a database (SQLite, or PostgreSQL for a team), exported as gold data.",
    no_args_is_help=True,
)

DB_HELP = "The review database: a SQLite file, or a URL (postgresql://user@host/db)."


class QueueOrder(StrEnum):
    given = "given"
    uncertainty = "uncertainty"
    disagreement = "disagreement"


@review_app.command("init")
def init_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)],
    texts: Annotated[
        list[Path] | None,
        typer.Option(
            "--texts",
            help="Raw or tokenised text to review (every format nerd prompts reads); repeat for more files.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    teacher: Annotated[
        list[Path] | None,
        typer.Option(
            "--teacher",
            help="Imported teacher records (imported/data.jsonl): their entities become suggestions.",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    text_format: Annotated[
        InputFormat, typer.Option(help="How --texts files are laid out (auto: by their first line).")
    ] = InputFormat.auto,
    model: Annotated[
        Path | None,
        typer.Option(
            help="A bundle or training checkpoint whose entities and confidence are shown beside the "
            "teacher's, and which orders the queue by uncertainty or disagreement.",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    labels: Annotated[
        Path | None,
        typer.Option(
            help='JSON file of the label set ({"LABEL": "definition", ...}). Default: CoNLL\'s PER, LOC, '
            "ORG, MISC.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    overlap_every: Annotated[
        int,
        typer.Option(
            min=0, help="Give every Nth sentence to two reviewers, to measure their agreement (0: none)."
        ),
    ] = 0,
) -> None:
    """Create a review database (or add to one): sentences once each, with their suggestions."""
    with exit_on_error():
        from nerd.review.loading import Inputs
        from nerd.review.setup import set_up_review

        with progress_bar() as progress:
            task = progress.add_task("Tagging with the model", total=None)
            report = set_up_review(
                db,
                Inputs(texts=texts or [], teacher=teacher or [], text_format=text_format),
                labels=labels,
                model=model,
                overlap_every=overlap_every,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        console.print(
            f"{report.added} sentence(s) added to {db} ({report.duplicates} already there or repeated); "
            f"labels {', '.join(report.labels)}" + ("; with the model's suggestions" if report.model else ""),
            soft_wrap=True,
        )
        console.print(f"next: nerd review serve {db} --reviewer NAME", soft_wrap=True)


@review_app.command("serve")
def serve_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)],
    reviewer: Annotated[
        str | None, typer.Option(help="The name the page starts with (each person may type their own).")
    ] = None,
    order: Annotated[
        QueueOrder,
        typer.Option(
            help="given: as the inputs hold them; uncertainty: what the model is least sure of first; "
            "disagreement: where the teacher and the model differ most first."
        ),
    ] = QueueOrder.given,
    host: Annotated[str, typer.Option(help="Interface to listen on.")] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8100,
) -> None:
    """Serve the review page and its JSON API over one database."""
    with exit_on_error():
        import uvicorn

        from nerd.review.app import create_review_app
        from nerd.review.store import ReviewStore
        from nerd.service.serving import LOG_CONFIG, check_port_free

        check_port_free(host, port)
        app = create_review_app(ReviewStore(db), order.value, reviewer)
        address = f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}/"
        if reviewer:
            address += f"?reviewer={reviewer}"
        error_console.print(f"reviewing {db} on {address} (Ctrl-C stops)", soft_wrap=True, markup=False)
        uvicorn.run(app, host=host, port=port, access_log=False, log_config=LOG_CONFIG)


@review_app.command("export")
def export_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)],
    conll: Annotated[
        Path | None,
        typer.Option(help="Write the accepted sentences as CoNLL (IOB2), for nerd train --original."),
    ] = None,
    jsonl: Annotated[
        Path | None,
        typer.Option(help="Write them as training records (reviewed: true), for nerd train --distilled."),
    ] = None,
) -> None:
    """Write the accepted sentences; rejected ones and reviewers' conflicts stay out, and are counted."""
    with exit_on_error():
        from nerd.errors import ConfigError
        from nerd.review.exporting import export_reviewed
        from nerd.review.store import ReviewStore

        if conll is None and jsonl is None:
            raise ConfigError("give --conll FILE, --jsonl FILE or both")
        store = ReviewStore(db)
        store.labels()
        counts = export_reviewed(store, conll=conll, jsonl=jsonl)
        console.print(
            f"{counts.exported} sentence(s) exported; {counts.rejected} rejected, {counts.conflicts} with "
            f"reviewers disagreeing, {counts.undecided} not decided yet",
            soft_wrap=True,
        )


@review_app.command("stats")
def stats_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)],
    json_out: Annotated[Path | None, typer.Option("--json", help="Also write the figures as JSON.")] = None,
) -> None:
    """Counts, each reviewer's throughput, agreement between reviewers, and the teacher per label."""
    with exit_on_error():
        from nerd.atomic import atomic_write_text
        from nerd.review.stats import review_stats
        from nerd.review.store import ReviewStore

        store = ReviewStore(db)
        store.labels()
        stats = review_stats(store)
        table = Table(title=f"Review of {db}", show_header=False, title_justify="left")
        table.add_column("what")
        table.add_column("value", justify="right")
        for key in ("items", "decided", "exported", "rejected", "conflicts", "undecided"):
            table.add_row(key, str(stats[key]))
        for name, figures in stats["reviewers"].items():
            rate = f", {figures['per_hour']}/hour" if figures["per_hour"] else ""
            table.add_row(
                f"reviewer {name}",
                f"{figures['accepted']} accepted, {figures['rejected']} rejected, "
                f"{figures['skipped']} skipped, {figures['undone']} undone{rate}",
            )
        agreement = stats["agreement"]
        if agreement:
            table.add_row(
                "agreement",
                f"{agreement['sentences']} sentences: entity F1 {agreement['entity_f1']:.4f}, token kappa "
                f"{agreement['token_kappa']}",
            )
        console.print(table)
        teacher = stats["teacher_vs_reviewed"]
        if teacher:
            scores = Table(title="The teacher against the reviewed data", title_justify="left")
            for column in ("type", "precision", "recall", "F1", "support"):
                scores.add_column(column, justify="left" if column == "type" else "right")
            rows = [*teacher["per_type"].items(), ("micro", teacher["micro"])]
            for name, row in rows:
                scores.add_row(
                    name,
                    f"{row['precision']:.4f}",
                    f"{row['recall']:.4f}",
                    f"{row['f1']:.4f}",
                    str(row["support"]),
                )
            console.print(scores)
        if json_out:
            atomic_write_text(json_out, json.dumps(stats, indent=2) + "\n")
