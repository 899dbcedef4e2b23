"""uvicorn's HTTP protocol with a deadline on a request's headers.

uvicorn has no such timeout: ``timeout_keep_alive`` covers the idle time between requests only, and is
reset by every byte, so a client that opens connections and sends its headers a byte at a time (or
nothing at all) holds them for ever. ASGI middleware cannot help, since the app is called only once the
headers are complete. This protocol arms a timer when a connection opens and when a request begins,
disarms it when the headers are in, and on expiry answers 408 and closes the connection. The body's
deadline is the app's (:class:`nerd.service.middleware.BodyLimit`), which can answer it properly.
"""

from __future__ import annotations

import asyncio
import json
from typing import Any, ClassVar

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol


def timeout_response(detail: str) -> bytes:
    """A complete 408 response that closes the connection."""
    body = json.dumps({"detail": detail}).encode()
    head = (
        "HTTP/1.1 408 Request Timeout\r\ncontent-type: application/json\r\nconnection: close\r\n"
        f"content-length: {len(body)}\r\n\r\n"
    )
    return head.encode() + body


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """httptools' protocol, with a request's headers due within ``header_timeout`` seconds of the
    connection opening (or of the request's first byte, on a kept-alive connection)."""

    # None: read once per process from the settings ``nerd serve`` handed on (uvicorn gives a protocol
    # class no settings of its own).
    header_timeout: ClassVar[float | None] = None

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._header_timer: asyncio.TimerHandle | None = None

    @classmethod
    def _timeout(cls) -> float:
        if cls.header_timeout is None:
            from nerd.service.settings import worker_settings

            cls.header_timeout = worker_settings().header_timeout_s
        return cls.header_timeout

    def _arm(self) -> None:
        self._disarm()
        self._header_timer = self.loop.call_later(self._timeout(), self._headers_late)

    def _disarm(self) -> None:
        if self._header_timer is not None:
            self._header_timer.cancel()
            self._header_timer = None

    def _headers_late(self) -> None:
        self._header_timer = None
        if self.transport.is_closing():
            return
        detail = f"request headers not complete within {self._timeout():g} s (NERD_HEADER_TIMEOUT_S)"
        self.transport.write(timeout_response(detail))
        self.transport.close()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(transport)
        self._arm()

    def on_message_begin(self) -> None:
        super().on_message_begin()
        if self._header_timer is None:
            self._arm()

    def on_headers_complete(self) -> None:
        self._disarm()
        super().on_headers_complete()

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
