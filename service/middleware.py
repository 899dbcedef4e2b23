"""ASGI middleware: one structured access-log line (plus metrics) per request. The body limit is
:mod:`nerd.service.body_limit`'s (the review app uses it too, without the metrics)."""

from __future__ import annotations

import json
import logging
import time
import uuid
from typing import Any

from nerd.service.body_limit import BodyLimit
from nerd.service.metrics import ServiceMetrics

__all__ = ["AccessLog", "BodyLimit"]

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
