"""ASGI middleware: the request-body limit, and one structured access-log line (plus metrics) per request."""

from __future__ import annotations

import asyncio
import json
import logging
import time
import uuid
from typing import Any

from nerd.service.metrics import ServiceMetrics

access_log = logging.getLogger("nerd.access")

Scope = dict[str, Any]
ERROR_KINDS = {
    400: "malformed_body",
    401: "unauthorized",
    403: "forbidden",
    404: "not_found",
    405: "method_not_allowed",
    408: "request_timeout",
    409: "reload_refused",
    413: "body_too_large",
    422: "invalid_request",
    503: "unavailable",
}


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

    def __init__(self, app: Any, max_bytes: int, timeout: float = 30.0) -> None:
        self.app = app
        self.max_bytes = max_bytes
        self.timeout = timeout

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        message = f"request body over the limit of {self.max_bytes} bytes (NERD_MAX_BODY_BYTES)"
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
            detail = f"request body not complete within {self.timeout:g} s (NERD_BODY_TIMEOUT_S)"
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


class AccessLog:
    """One JSON line per request on the ``nerd.access`` logger: never the texts unless configured."""

    def __init__(self, app: Any, metrics: ServiceMetrics) -> None:
        self.app = app
        self.metrics = metrics

    async def __call__(self, scope: Scope, receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        status = 500
        request_id = (
            dict(scope["headers"]).get(b"x-request-id", b"").decode("latin-1")[:64] or uuid.uuid4().hex
        )
        scope.setdefault("state", {})["request_id"] = request_id

        async def recording_send(event: Any) -> None:
            nonlocal status
            if event["type"] == "http.response.start":
                status = event["status"]
                event.setdefault("headers", []).append((b"x-request-id", request_id.encode("latin-1")))
            await send(event)

        try:
            await self.app(scope, receive, recording_send)
        finally:
            seconds = time.perf_counter() - started
            # The route's template, never the raw path: a client's text must not become a label, and
            # requests refused before routing (413) or to no route (404) share one bucket.
            path = getattr(scope.get("route"), "path", None) or "unmatched"
            self.metrics.requests.labels(path, str(status)).inc()
            if status >= 400:
                kind = ERROR_KINDS.get(status, "server_error" if status >= 500 else "client_error")
                self.metrics.errors.labels(kind).inc()
            self.metrics.latency.observe(seconds)
            record = {
                "event": "request",
                "request_id": request_id,
                "method": scope["method"],
                "path": scope["path"],
                "status": status,
                "ms": round(seconds * 1000, 2),
                "client": (scope.get("client") or ("", 0))[0],
            }
            record.update(scope["state"].get("log_fields", {}))
            access_log.info(json.dumps(record, ensure_ascii=False))
