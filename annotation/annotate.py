"""``nerd annotate`` as a function: send a request set to an LLM (OpenAI's or Azure's Batch API, or any
OpenAI-compatible chat endpoint) and keep every answer in a run directory that ``nerd import`` reads.

It prints nothing: an :class:`AnnotateObserver` (the CLI's progress display) hears what happens.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections.abc import Iterator
from dataclasses import dataclass, field
from enum import StrEnum
from pathlib import Path

from nerd.annotation.annotate_run import Accounting, AnnotateRun
from nerd.annotation.batch_transport import BatchPart, BatchRun, BatchTally, wait_for_batches
from nerd.annotation.chat_transport import ChatTally, send_chat_requests
from nerd.annotation.openai_clients import Endpoint, EndpointError
from nerd.annotation.rate_limit import RateLimiter
from nerd.annotation.retry_policy import RetryPolicy
from nerd.errors import ConfigError


class Via(StrEnum):
    batch = "batch"
    chat = "chat"


class AnnotateObserver:
    """What a display hears of a run; every method is optional."""

    def note(self, text: str) -> None:
        """One line worth telling (what was submitted, what is left to do)."""

    @contextlib.contextmanager
    def chat_running(self, endpoint: str, total: int) -> Iterator[None]:
        """Around the chat requests of a run."""
        yield

    def chat_progress(self, tally: ChatTally) -> None:
        """After every chat request that ended."""

    @contextlib.contextmanager
    def batches_running(self) -> Iterator[None]:
        """Around the wait for submitted batches."""
        yield

    def batch_progress(self, tally: BatchTally) -> None:
        """After every look at the batches."""


@dataclass(frozen=True)
class ChatOptions:
    concurrency: int = 4
    rpm: float | None = None
    policy: RetryPolicy = field(default_factory=RetryPolicy)


@dataclass(frozen=True)
class BatchOptions:
    wait: bool = True
    poll_interval: float = 30.0
    batch_size: int = 50_000


def open_run(
    requests: list[Path],
    out: Path,
    via: Via,
    endpoint: Endpoint,
    *,
    model: str | None = None,
    temperature: float | None = None,
    changes: bool = True,
) -> AnnotateRun:
    """The run directory for ``requests`` (a new one, or the one a rerun resumes).

    Raises:
        ConfigError: chat without a base URL; InputError: bad request lines, another request set.
    """
    if via is Via.chat and endpoint.base_url is None:
        raise ConfigError(
            "--via chat needs --base-url: the OpenAI-compatible endpoint, e.g. http://host:8080/v1"
        )
    return AnnotateRun.open(requests, out, model=model, temperature=temperature, repair=changes)


def annotate(
    run: AnnotateRun,
    via: Via,
    endpoint: Endpoint,
    *,
    retry_errors: bool = False,
    chat: ChatOptions | None = None,
    batch: BatchOptions | None = None,
    observer: AnnotateObserver | None = None,
) -> Accounting:
    """Send what the run has not been answered yet; every id ends in ``output.jsonl`` or ``errors.jsonl``.

    Raises:
        EndpointRefused: the endpoint refused the key (nothing more is sent).
        EndpointError: an SDK error its own retries did not mend (``state.json`` keeps what was done).
    """
    observer = observer or AnnotateObserver()
    run.write_requests(via.value)
    if retry_errors:
        observer.note(f"{run.retry_failures()} failed request(s) will be sent again")
    if via is Via.chat:
        _run_chat(run, endpoint, chat or ChatOptions(), observer)
    else:
        with api_errors(endpoint):
            _run_batches(run, endpoint, batch or BatchOptions(), observer)
    return run.accounting()


def batch_states(run: AnnotateRun, endpoint: Endpoint) -> list[BatchPart]:
    """The batches of a run as the API reports them now; nothing is changed or saved."""
    with api_errors(endpoint):
        batches = BatchRun(
            endpoint.sync_client(key_required=True),
            run.directory,
            run.log,
            state_extra=run.state(via="batch"),
        )
        if batches.state.parts:
            batches.refresh(save=False)
        return list(batches.state.parts)


@contextlib.contextmanager
def api_errors(endpoint: Endpoint) -> Iterator[None]:
    """An SDK error the SDK's own retries did not mend becomes one line; state.json keeps the rest."""
    import openai

    try:
        yield
    except openai.OpenAIError as error:
        where = endpoint.base_url or "api.openai.com"
        raise EndpointError(
            f"{where}: {error}; what was done is in state.json, the same command resumes"
        ) from None


def _run_chat(run: AnnotateRun, endpoint: Endpoint, options: ChatOptions, observer: AnnotateObserver) -> None:
    pending = run.pending()
    if not pending:
        observer.note("Every request is already answered or failed; nothing to send")
        return

    async def main() -> None:
        client = endpoint.async_client(key_required=False)
        async with client:
            with observer.chat_running(str(endpoint.base_url), len(pending)):
                await send_chat_requests(
                    client,
                    pending,
                    run.log,
                    concurrency=options.concurrency,
                    limiter=RateLimiter(options.rpm),
                    policy=options.policy,
                    on_done=observer.chat_progress,
                )

    asyncio.run(main())


def _run_batches(
    run: AnnotateRun, endpoint: Endpoint, options: BatchOptions, observer: AnnotateObserver
) -> None:
    client = endpoint.sync_client(key_required=True)
    batches = BatchRun(
        client,
        run.directory,
        run.log,
        state_extra=run.state(via="batch"),
        azure=endpoint.is_azure,
        max_requests=options.batch_size,
    )
    new = batches.plan_parts(run.requests)
    if new:
        observer.note(
            f"{sum(part.requests for part in new)} request(s) in {len(new)} new batch input file(s)"
        )
    batches.submit()
    if not options.wait:
        observer.note("Batches submitted; run the same command to collect them (or --check for their state)")
        return
    with observer.batches_running():
        wait_for_batches(batches, poll_interval=options.poll_interval, on_poll=observer.batch_progress)
