"""What every answer of the review app carries, and what every write must show.

Headers: a Content-Security-Policy that lets the page load its own files only (no inline script, no
framing), X-Frame-Options DENY for older browsers, nosniff, no referrer, no caching of the API's
answers (they hold confidential sentences). Writes: a POST whose Origin (or Sec-Fetch-Site) says it
comes from another site is refused before any route sees it, on top of the SameSite=Strict cookie.
"""

from __future__ import annotations

import json
from typing import Any

SAFE_METHODS = {"GET", "HEAD", "OPTIONS"}
CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; connect-src 'self'; "
    "frame-ancestors 'none'; base-uri 'none'; form-action 'self'; object-src 'none'"
)
HEADERS = [
    (b"content-security-policy", CSP.encode()),
    (b"x-frame-options", b"DENY"),
    (b"x-content-type-options", b"nosniff"),
    (b"referrer-policy", b"no-referrer"),
    (b"cross-origin-opener-policy", b"same-origin"),
]


def _origin_refusal(scope: dict[str, Any], tls: bool) -> str | None:
    """Why a write is refused as coming from elsewhere, or None."""
    headers = {key.decode("latin-1"): value.decode("latin-1") for key, value in scope["headers"]}
    if headers.get("sec-fetch-site") == "cross-site":
        return "a write from another site is refused"
    origin = headers.get("origin")
    if origin is None:
        return None  # not a browser (a script with its token), or a same-origin form of an old browser
    host = headers.get("host", "")
    allowed = {f"{scheme}://{host}" for scheme in (("https",) if tls else ("http", "https"))}
    if origin not in allowed:
        return f"a write from another origin ({origin[:100]}) is refused"
    return None


class SecurityHeaders:
    """Pure ASGI middleware: the headers above on every answer, the origin check on every write."""

    def __init__(self, app: Any, *, tls: bool = False) -> None:
        self.app = app
        self.tls = tls
        self.headers = [*HEADERS]
        if tls:
            self.headers.append((b"strict-transport-security", b"max-age=31536000"))

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        api = scope["path"].startswith("/api/")

        async def with_headers(event: dict[str, Any]) -> None:
            if event["type"] == "http.response.start":
                extra = list(self.headers)
                if api:
                    extra.append((b"cache-control", b"no-store"))
                event = {**event, "headers": [*event.get("headers", []), *extra]}
            await send(event)

        if scope["method"] not in SAFE_METHODS and (reason := _origin_refusal(scope, self.tls)):
            body = json.dumps({"detail": reason}).encode()
            await with_headers(
                {
                    "type": "http.response.start",
                    "status": 403,
                    "headers": [
                        (b"content-type", b"application/json"),
                        (b"content-length", str(len(body)).encode()),
                    ],
                }
            )
            await send({"type": "http.response.body", "body": body})
            return
        await self.app(scope, receive, with_headers)
