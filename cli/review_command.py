"""``nerd review``: people correct the teacher and write gold data, in a browser, inside the network."""

from __future__ import annotations

import json
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer
from rich.markup import escape
from rich.table import Table

from nerd.annotation.prompt_inputs import InputFormat
from nerd.cli.console import console, error_console, exit_on_error, progress_bar
from nerd.cli.review_users_command import users_app

review_app = typer.Typer(
    name="review",
    help="Review sentences in a browser: the teacher's and a model's entities as suggestions, a person's "
    "decisions in a database (SQLite, or PostgreSQL for a team), exported as gold data.",
    no_args_is_help=True,
)

DB_HELP = "The review database: a SQLite file, or a URL (postgresql://user@host/db)."
# What the review extra brings; without one of them every review command says so in one line.
EXTRA_MODULES = ("sqlalchemy", "alembic", "argon2", "itsdangerous", "psycopg", "orjson")


review_app.add_typer(users_app)


@review_app.callback()
def needs_review_extra() -> None:
    """Every nerd review command: the review extra must be installed."""
    import importlib.util

    missing = [name for name in EXTRA_MODULES if importlib.util.find_spec(name) is None]
    if missing:
        error_console.print(
            "[bold red]error:[/] "
            + escape(
                f"nerd review needs its extra: pip install 'nerd[review]' (missing: {', '.join(missing)})"
            ),
            soft_wrap=True,
        )
        raise typer.Exit(code=1)


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
    max_tokens: Annotated[
        int,
        typer.Option(
            min=8,
            help="Split a sentence longer than this many tokens into parts (never inside a teacher's "
            "entity), so that each part can be read and edited on the page.",
        ),
    ] = 512,
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
                max_tokens=max_tokens,
                progress=lambda done, total: progress.update(task, completed=done, total=total),
            )
        console.print(
            f"{report.added} sentence(s) added to {db} ({report.duplicates} already there or repeated); "
            f"labels {', '.join(report.labels)}" + ("; with the model's suggestions" if report.model else ""),
            soft_wrap=True,
        )
        if report.split:
            console.print(
                f"{report.split} sentence(s) over {report.max_tokens} tokens were split into "
                f"{report.parts} parts (never inside a teacher's entity)",
                soft_wrap=True,
            )
        order = " --order uncertainty (or disagreement)" if report.model else ""
        console.print(
            f"next: nerd review users add {db} NAME, then nerd review serve {db}{order}", soft_wrap=True
        )


@review_app.command("serve")
def serve_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)],
    order: Annotated[
        QueueOrder,
        typer.Option(
            help="given: as the inputs hold them; uncertainty: what the model is least sure of first; "
            "disagreement: where the teacher and the model differ most first."
        ),
    ] = QueueOrder.given,
    host: Annotated[
        str,
        typer.Option(
            help="Interface to listen on. Anything but loopback needs users (nerd review users add) or "
            "--trusted-proxy."
        ),
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8100,
    reviewer: Annotated[
        str,
        typer.Option(
            help="The name decisions are recorded under while the database has no users (loopback only)."
        ),
    ] = "reviewer",
    allowed_host: Annotated[
        list[str] | None,
        typer.Option(
            "--allowed-host",
            help="A Host name clients use to reach the review (its DNS name); repeat for more. Loopback "
            "names and --host are always allowed; any other Host header is refused.",
        ),
    ] = None,
    trusted_proxy: Annotated[
        list[str] | None,
        typer.Option(
            "--trusted-proxy",
            help="Address of a reverse proxy doing single sign-on; its --user-header names the person. "
            "Repeat for more. The header is ignored from any other address.",
        ),
    ] = None,
    user_header: Annotated[
        str, typer.Option(help="The header a trusted proxy names the signed-in person in.")
    ] = "X-Forwarded-User",
    tls: Annotated[
        bool,
        typer.Option(
            "--tls",
            help="The review is reached over HTTPS (a TLS proxy in front): session cookies are Secure.",
        ),
    ] = False,
    secret_file: Annotated[
        Path | None,
        typer.Option(
            help="A file holding the key that signs session cookies (default: a key kept in the database).",
            exists=True,
            dir_okay=False,
        ),
    ] = None,
    lease: Annotated[
        int,
        typer.Option(
            min=30,
            help="Seconds a served sentence stays with its reviewer; the page renews it while open.",
        ),
    ] = 600,
    max_body_bytes: Annotated[
        int, typer.Option(min=1024, help="Largest request body accepted (413 above).")
    ] = 1_000_000,
    header_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a request's headers may take to arrive (408 after).")
    ] = 30.0,
    body_timeout: Annotated[
        float, typer.Option(min=0.1, help="Seconds a request's body may take to arrive (408 after).")
    ] = 30.0,
) -> None:
    """Serve the review page and its JSON API over one database, for one person or a team."""
    with exit_on_error():
        from nerd.review.serving import serve_review
        from nerd.review.settings import ReviewSettings
        from nerd.review.store import ReviewStore

        secret = secret_file.read_text(encoding="utf-8").strip() if secret_file else None
        if secret_file and len(secret or "") < 32:
            from nerd.errors import ConfigError

            raise ConfigError(f"{secret_file}: a session key needs at least 32 characters")
        settings = ReviewSettings(
            order=order.value,
            lease_s=lease,
            host=host,
            open_reviewer=reviewer,
            allowed_hosts=tuple(allowed_host or ()),
            trusted_proxies=tuple(trusted_proxy or ()),
            user_header=user_header,
            tls=tls,
            secret=secret,
            max_body_bytes=max_body_bytes,
            header_timeout_s=header_timeout,
            body_timeout_s=body_timeout,
        )
        serve_review(
            ReviewStore(db),
            settings,
            port=port,
            announce=lambda address: error_console.print(
                f"reviewing {db} on {address} (Ctrl-C stops)", soft_wrap=True, markup=False
            ),
        )


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
        store.project()
        counts = export_reviewed(store, conll=conll, jsonl=jsonl)
        console.print(
            f"{counts.exported} sentence(s) exported ({counts.settled} settled by an adjudicator); "
            f"{counts.rejected} rejected, {counts.conflicts} with reviewers disagreeing and not settled, "
            f"{counts.undecided} not decided yet",
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
        for key in ("items", "decided", "exported", "rejected", "conflicts", "settled", "undecided"):
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


@review_app.command("upgrade")
def upgrade_cli(db: Annotated[str, typer.Argument(help=DB_HELP)]) -> None:
    """Bring a review database made by an older nerd up to date (Alembic migrations; every decision
    kept). Back it up first with nerd review backup."""
    with exit_on_error():
        from nerd.review.schema import upgrade
        from nerd.review.store import ReviewStore

        before, after = upgrade(ReviewStore(db).database)
        if before == after:
            console.print(f"{db} is up to date (revision {after})", soft_wrap=True)
        else:
            console.print(f"{db} upgraded from revision {before} to {after}", soft_wrap=True)


@review_app.command("backup")
def backup_cli(
    db: Annotated[str, typer.Argument(help=DB_HELP)],
    file: Annotated[
        Path, typer.Argument(help="The copy to write: a SQLite file (never overwritten).", dir_okay=False)
    ],
) -> None:
    """A consistent copy of a review database, safe while it is being served (SQLite's backup API;
    PostgreSQL is copied in one snapshot). The copy is itself a review database nerd can serve."""
    with exit_on_error():
        from nerd.review.backup import back_up

        counts = back_up(db, file)
        console.print(
            f"{file}: {counts['items']} item(s), {counts['decisions']} decision(s), "
            f"{counts['users']} user(s)",
            soft_wrap=True,
        )
