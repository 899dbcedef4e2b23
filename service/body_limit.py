"""The request-body limit as ASGI middleware: 413 over a size, 408 when a body trickles in."""

from __future__ import annotations

import asyncio
import json
from typing import Any

Scope = dict[str, Any]


async def _send_json(send: Any, status: int, body: dict[str, Any], *, close: bool = False) -> None:
    payload = json.dumps(body).encode()
    headers = [(b"content-type", b"application/json"), (b"content-length", str(len(payload)).encode())]
    if close:  # uvicorn closes the connection after a response that says so
        headers.append((b"connection", b"close"))
    await send({"type": "http.response.start", "status": status, "headers": headers})
    await send({"type": "http.response.body", "body": payload})


class BodyLimit:
    """Reads a request's body before the app does: 413 to a body over ``max_bytes`` (by its
    Content-Length or, when it comes without one, as it arrives), 408 to one not complete within
    ``timeout`` seconds of its headers (a client that sends a byte a minute holds nothing for long).

    The refused body is read and dropped (up to :data:`DRAIN_LIMIT`) before the 413: a client that
    sends its whole body before reading, as Python's urllib does, would otherwise meet a closed
    connection instead of the answer. The app gets the body whole, replayed, so the 413 and the 408
    are this middleware's and not the app's "error parsing the body".
    """

    def __init__(
        self,
        app: Any,
        max_bytes: int,
        timeout: float = 30.0,
        *,
        limit_setting: str = "NERD_MAX_BODY_BYTES",
        timeout_setting: str = "NERD_BODY_TIMEOUT_S",
    ) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout
        # Named in the answers, so that whoever meets a limit knows which setting moves it.
        self.limit_setting = limit_setting
        self.timeout_setting = timeout_setting

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body over the limit of {self.max_bytes} bytes ({self.limit_setting})"
        length = dict(scope["headers"]).get(b"content-length")
        if length is not None and length.isdigit() and int(length) > self.max_bytes:
            await _drain(receive, 0)
            await _send_json(send, 413, {"detail": message})
            return
        events, received, too_large = [], 0, False
        try:
            # One deadline for the whole body (asyncio.timeout: no task per receive, unlike wait_for).
            async with asyncio.timeout(self.timeout):
                while True:
                    event = await receive()
                    events.append(event)
                    if event["type"] != "http.request":
                        break
                    received += len(event.get("body", b""))
                    if received > self.max_bytes:
                        too_large = True
                        break
                    if not event.get("more_body", False):
                        break
        except TimeoutError:
            detail = f"request body not complete within {self.timeout:g} s ({self.timeout_setting})"
            await _send_json(send, 408, {"detail": detail}, close=True)
            return
        if too_large:
            await _drain(receive, received)
            await _send_json(send, 413, {"detail": message})
            return

        async def replay() -> Any:
            return events.pop(0) if events else await receive()

        await self.app(scope, replay, send)


# A refused body is read and dropped up to this size; beyond it the connection is closed instead.
DRAIN_LIMIT = 64 * 1024 * 1024


async def _drain(receive: Any, already: int) -> None:
    received = already
    while received <= DRAIN_LIMIT:
        event = await receive()
        if event["type"] != "http.request":
            return
        received += len(event.get("body", b""))
        if not event.get("more_body", False):
            return
