"""``nerd annotate --via chat``: requests sent one by one to an OpenAI-compatible chat endpoint.

A bounded number of requests are in flight at once; each answer is appended to ``output.jsonl`` the
moment it arrives; 408/409/429/5xx, timeouts and dropped connections are retried with backoff (the
server's ``Retry-After`` first), and a request that still fails ends in ``errors.jsonl`` with its status.
A refused key (401/403) stops the run: every other request would fail the same way.
"""

from __future__ import annotations

import asyncio
import json
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING, Any

from nerd.annotation.answer_log import AnswerLog, error_line, output_line
from nerd.annotation.rate_limit import RateLimiter
from nerd.annotation.request_set import AnnotationRequest
from nerd.annotation.retry_policy import FATAL_STATUSES, RetryPolicy, is_retryable, retry_after_seconds
from nerd.errors import NerdError

if TYPE_CHECKING:
    from openai import AsyncOpenAI

# The chat-completions parameters the SDK names; anything else in a body goes through extra_body.
_NAMED = ("model", "messages")


class EndpointRefused(NerdError):
    """The endpoint refused the credentials; nothing more is sent."""


@dataclass
class ChatTally:
    """What one run did: answers, final failures, retries."""

    answered: int = 0
    failed: int = 0
    retries: int = 0
    failures_by_reason: dict[str, int] = field(default_factory=dict)


@dataclass(frozen=True)
class _Outcome:
    """One attempt: an answer (``body``) or a failure (``status``/``code``) and the server's wait."""

    body: Any = None
    request_id: str | None = None
    status: int | None = None
    code: str = ""
    message: str = ""
    error_body: Any = None
    server_wait: float | None = None
    retryable: bool = True

    @property
    def ok(self) -> bool:
        return self.status == 200


async def _attempt(client: AsyncOpenAI, request: AnnotationRequest) -> _Outcome:
    import openai

    body = request.body
    extra = {key: value for key, value in body.items() if key not in _NAMED}
    try:
        raw = await client.chat.completions.with_raw_response.create(
            model=body["model"], messages=body["messages"], extra_body=extra or None
        )
    except openai.APIStatusError as error:
        return _Outcome(
            status=error.status_code,
            code=f"http_{error.status_code}",
            message=_short(error.message),
            error_body=error.body if isinstance(error.body, dict) else None,
            server_wait=retry_after_seconds(dict(error.response.headers)),
        )
    except openai.APITimeoutError:
        return _Outcome(code="timeout", message="no answer within the request timeout")
    except openai.APIConnectionError as error:
        return _Outcome(code="connection_error", message=_short(str(error.__cause__ or error)))
    try:
        answer = json.loads(raw.content)
    except (ValueError, RecursionError):  # broken JSON, bad UTF-8, or an integer of 4,300+ digits
        # A 200 whose body is not JSON is the server's bug; kept as a failure, not retried.
        return _Outcome(code="invalid_response", message="a 200 answer that is not JSON", retryable=False)
    return _Outcome(body=answer, request_id=raw.headers.get("x-request-id"), status=200)


def _short(text: str, limit: int = 500) -> str:
    return text if len(text) <= limit else text[:limit] + "..."


async def _ask(
    client: AsyncOpenAI,
    request: AnnotationRequest,
    limiter: RateLimiter,
    policy: RetryPolicy,
    tally: ChatTally,
) -> _Outcome:
    retry = 0
    while True:
        await limiter.wait_turn()
        outcome = await _attempt(client, request)
        if outcome.ok or outcome.status in FATAL_STATUSES:
            return outcome
        if not outcome.retryable or not is_retryable(outcome.status) or retry >= policy.max_retries:
            return outcome
        if policy.too_long(outcome.server_wait):
            # The error line says why this request gave up, beside what the server answered.
            message = (
                f"the server asked to wait {outcome.server_wait} s before a retry (Retry-After), over the "
                f"--max-retry-wait of {policy.max_server_wait:g} s: gave up after {retry + 1} attempt(s)"
            )
            code = "retry_after_too_long"
            server_body = {"code": code, "message": message, "server_answer": outcome.error_body}
            return replace(outcome, code=code, message=message, error_body={"error": server_body})
        retry += 1
        tally.retries += 1
        wait = policy.delay(retry, outcome.server_wait)
        if outcome.status == 429:
            limiter.pause(wait)
        await asyncio.sleep(wait)


async def send_chat_requests(
    client: AsyncOpenAI,
    requests: Sequence[AnnotationRequest],
    log: AnswerLog,
    *,
    concurrency: int = 4,
    limiter: RateLimiter | None = None,
    policy: RetryPolicy | None = None,
    on_done: Callable[[ChatTally], None] | None = None,
) -> ChatTally:
    """Send every request not yet in ``log``; each ends as an output or an error line.

    Raises:
        EndpointRefused: a 401 or 403 (answers so far are kept; the rest stays unsent).
    """
    limiter = limiter or RateLimiter()
    policy = policy or RetryPolicy()
    tally = ChatTally()
    queue: asyncio.Queue[AnnotationRequest] = asyncio.Queue()
    for request in requests:
        if not log.finished(request.custom_id):
            queue.put_nowait(request)

    async def worker() -> None:
        while True:
            try:
                request = queue.get_nowait()
            except asyncio.QueueEmpty:
                return
            outcome = await _ask(client, request, limiter, policy, tally)
            if outcome.ok:
                log.record_answer(output_line(request.custom_id, outcome.body, request_id=outcome.request_id))
                tally.answered += 1
            elif outcome.status in FATAL_STATUSES:
                raise EndpointRefused(
                    f"the endpoint refused the credentials (HTTP {outcome.status}: {outcome.message}); "
                    "nothing more was sent, the answers so far are kept"
                )
            else:
                log.record_failure(
                    error_line(
                        request.custom_id,
                        outcome.code,
                        outcome.message,
                        status=outcome.status,
                        body=outcome.error_body,
                    )
                )
                tally.failed += 1
                tally.failures_by_reason[outcome.code] = tally.failures_by_reason.get(outcome.code, 0) + 1
            if on_done is not None:
                on_done(tally)

    workers = [asyncio.create_task(worker()) for _ in range(max(1, min(concurrency, queue.qsize())))]
    try:
        await asyncio.gather(*workers)
    finally:
        for task in workers:
            task.cancel()
        await asyncio.gather(*workers, return_exceptions=True)
    return tally
