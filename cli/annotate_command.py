"""``nerd annotate``: send the requests of ``nerd prompts`` to an LLM and keep its answers for import."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.table import Table

from nerd.annotation.annotate import AnnotateObserver, Via
from nerd.cli.console import console, error_console, exit_on_error, progress_bar
from nerd.errors import ConfigError

if TYPE_CHECKING:
    from rich.progress import Progress

    from nerd.annotation.annotate_run import Accounting, AnnotateRun, Estimate
    from nerd.annotation.batch_transport import BatchPart, BatchTally
    from nerd.annotation.chat_transport import ChatTally


def annotate_cli(
    requests: Annotated[
        list[Path],
        typer.Argument(
            help="Request files, or directories holding requests-*.jsonl, as nerd prompts or "
            "nerd evolve plan wrote them.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            "--out",
            help="Run directory: the requests as sent, output.jsonl, errors.jsonl and state.json; "
            "what nerd import reads. The same command again resumes it.",
            show_default=False,
        ),
    ],
    via: Annotated[
        Via,
        typer.Option(
            help="batch: the OpenAI (or Azure OpenAI) Batch API, half price, within 24 h; chat: one "
            "request at a time to any OpenAI-compatible chat completions endpoint (vLLM, llama.cpp, "
            "Ollama, a gateway)."
        ),
    ] = Via.batch,
    base_url: Annotated[
        str | None,
        typer.Option(
            help="API base URL, e.g. http://127.0.0.1:8080/v1 (required with --via chat); with "
            "--azure-api-version, the Azure resource's endpoint. Default: api.openai.com."
        ),
    ] = None,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            help="File holding the API key. Default: the OPENAI_API_KEY environment variable "
            "(AZURE_OPENAI_API_KEY for Azure). The key is never written anywhere."
        ),
    ] = None,
    azure_api_version: Annotated[
        str | None,
        typer.Option(
            help="Talk to Azure OpenAI with this API version (e.g. 2024-10-21); model = deployment."
        ),
    ] = None,
    model: Annotated[str | None, typer.Option(help="Override the model named in every request.")] = None,
    temperature: Annotated[
        float | None, typer.Option(help="Override the temperature of every request.")
    ] = None,
    concurrency: Annotated[int, typer.Option(min=1, max=256, help="chat: requests in flight at once.")] = 4,
    rpm: Annotated[
        float | None, typer.Option(min=0.001, help="chat: at most this many requests started a minute.")
    ] = None,
    max_retries: Annotated[
        int,
        typer.Option(
            min=0,
            help="chat: retries of a request on 408/409/429/5xx, timeouts and dropped connections "
            "(exponential backoff with jitter, or the server's Retry-After); then it goes to errors.jsonl.",
        ),
    ] = 6,
    backoff: Annotated[
        float, typer.Option(min=0.0, help="chat: the first retry waits up to this many seconds, doubling.")
    ] = 1.0,
    max_retry_wait: Annotated[
        float,
        typer.Option(
            min=0.0,
            help="chat: the longest Retry-After obeyed, in seconds; a server asking for more (an hour, "
            "'inf') fails that request at once, with the wait it asked for in errors.jsonl.",
        ),
    ] = 300.0,
    timeout: Annotated[float, typer.Option(min=0.1, help="Seconds to wait for one HTTP response.")] = 120.0,
    retry_errors: Annotated[
        bool,
        typer.Option(
            "--retry-errors",
            help="Send again the requests that ended in errors.jsonl (a resume otherwise leaves them there).",
        ),
    ] = False,
    dry_run: Annotated[
        bool,
        typer.Option(
            "--dry-run", help="Print how many requests would be sent and their prompt tokens; send nothing."
        ),
    ] = False,
    price: Annotated[
        float | None,
        typer.Option(
            min=0.0, help="With --dry-run: price in USD per million prompt tokens, for a cost estimate."
        ),
    ] = None,
    check: Annotated[
        bool, typer.Option("--check", help="batch: report how the run's batches stand; change nothing.")
    ] = False,
    wait: Annotated[
        bool,
        typer.Option(
            "--wait/--no-wait", help="batch: poll until every batch has ended, or submit and return."
        ),
    ] = True,
    batch_size: Annotated[
        int,
        typer.Option(
            min=1,
            max=50_000,
            help="batch: at most this many requests a batch (the API's limit is 50,000; smaller batches "
            "stay within an organisation's enqueued-token quota).",
        ),
    ] = 50_000,
    poll_interval: Annotated[
        float, typer.Option(min=0.0, help="batch: seconds between two looks at the batches.")
    ] = 30.0,
) -> None:
    """Send annotation requests to an LLM (Batch API or a chat endpoint); every id ends in
    output.jsonl or errors.jsonl, ready for nerd import."""
    from nerd.annotation.annotate import BatchOptions, ChatOptions, annotate, batch_states, open_run
    from nerd.annotation.openai_clients import Endpoint
    from nerd.annotation.retry_policy import RetryPolicy

    with exit_on_error():
        if check and via is not Via.batch:
            raise ConfigError("--check reports on batches: use it with --via batch")
        endpoint = Endpoint(base_url, api_key_file, azure_api_version, timeout)
        run = open_run(
            requests, out, via, endpoint, model=model, temperature=temperature, changes=not (dry_run or check)
        )
        if check:
            _show_batches(batch_states(run, endpoint), run)
            _show_accounting(run.accounting(), run.directory)
            return
        if dry_run:
            _show_estimate(run.estimate(price), run, via)
            return
        policy = RetryPolicy(max_retries=max_retries, base_delay=backoff, max_server_wait=max_retry_wait)
        accounting = annotate(
            run,
            via,
            endpoint,
            retry_errors=retry_errors,
            chat=ChatOptions(concurrency=concurrency, rpm=rpm, policy=policy),
            batch=BatchOptions(wait=wait, poll_interval=poll_interval, batch_size=batch_size),
            observer=_ProgressDisplay(),
        )
        _show_accounting(accounting, out)


class _ProgressDisplay(AnnotateObserver):
    """A progress bar for the chat requests or the batches, and each note as a line."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.task: Any = None

    def note(self, text: str) -> None:
        console.print(text)

    @contextlib.contextmanager
    def chat_running(self, endpoint: str, total: int) -> Iterator[None]:
        with progress_bar() as self.progress:
            self.task = self.progress.add_task(f"Asking {endpoint}", total=total)
            yield

    def chat_progress(self, tally: ChatTally) -> None:
        assert self.progress is not None
        self.progress.update(
            self.task,
            completed=tally.answered + tally.failed,
            description=f"Asking ({tally.failed} failed, {tally.retries} retries)",
        )

    @contextlib.contextmanager
    def batches_running(self) -> Iterator[None]:
        with progress_bar() as self.progress:
            self.task = self.progress.add_task("Batches running", total=None)
            yield

    def batch_progress(self, tally: BatchTally) -> None:
        assert self.progress is not None
        states = ", ".join(f"{count} {status}" for status, count in sorted(tally.statuses.items()))
        self.progress.update(
            self.task,
            total=tally.requests,
            completed=tally.completed + tally.failed,
            description=f"Batches: {states}",
        )


def _show_batches(parts: list[BatchPart], run: AnnotateRun) -> None:
    if not parts:
        console.print(f"{run.directory}: no batch submitted yet")
        return
    table = Table(title="Batches", title_justify="left")
    for column in ("input", "batch", "status", "requests", "completed", "failed", "collected"):
        table.add_column(column, justify="right" if column in {"requests", "completed", "failed"} else "left")
    for part in parts:
        table.add_row(
            part.file,
            part.batch_id or "-",
            part.status or "not submitted",
            str(part.requests),
            str(part.completed),
            str(part.failed),
            "yes" if part.collected else "no",
        )
    console.print(table)


def _show_estimate(estimate: Estimate, run: AnnotateRun, via: Via) -> None:
    table = Table(title=f"Dry run (--via {via.value}): nothing sent", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("value", justify="right")
    accounting = run.accounting()
    table.add_row("requests in the set", str(accounting.requests))
    table.add_row("already answered", str(accounting.answered))
    table.add_row("already failed (sent again with --retry-errors)", str(accounting.failed))
    table.add_row("to send", str(estimate.requests))
    table.add_row("prompt tokens (estimate: characters / 4)", f"{estimate.prompt_tokens:,}")
    if estimate.cost is not None:
        table.add_row("prompt cost (USD, at --price)", f"{estimate.cost:,.2f}")
    console.print(table)


def _show_accounting(accounting: Accounting, out: Path) -> None:
    table = Table(title="Annotation run", show_header=False, title_justify="left")
    table.add_column("what")
    table.add_column("count", justify="right")
    table.add_row("requests", str(accounting.requests))
    table.add_row("answered (output.jsonl)", str(accounting.answered))
    table.add_row("failed (errors.jsonl)", str(accounting.failed))
    table.add_row("pending", str(accounting.pending))
    console.print(table)
    if accounting.complete:
        console.print(f"Every request has ended; next: nerd import {out} --out IMPORTED")
    else:
        error_console.print(
            f"[yellow]{accounting.pending} request(s) still pending:[/] run the same command again"
        )
