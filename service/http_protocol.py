"""uvicorn's HTTP protocol with a deadline on a request's headers.

uvicorn has no such timeout: ``timeout_keep_alive`` covers the idle time between requests only, and is
reset by every byte, so a client that opens connections and sends its headers a byte at a time (or
nothing at all) holds them for ever. ASGI middleware cannot help, since the app is called only once the
headers are complete. This protocol arms a timer when a connection opens and when a request begins,
disarms it when the headers are in, and on expiry answers 408 and closes the connection. The body's
deadline is the app's (:class:`nerd.service.middleware.BodyLimit`), which can answer it properly.

It also sends a response in one write: uvicorn writes the status line and headers, then the body, two
``send`` calls for what is one small packet of JSON (4.8% of a lone request's profile went to them, see
docs/speed.md). :class:`OneWriteTransport` holds what a response writes until the loop's next turn.
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


class OneWriteTransport:
    """A transport whose writes within one turn of the event loop leave together.

    The app writes a response's head and its body in the same step (Starlette's ``Response`` sends
    both without waiting in between), so they go out as one buffer; a streamed body that waits between
    its parts is only held to the end of the turn. Everything but ``write`` and ``close`` is the
    wrapped transport's own.
    """

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: list[bytes] = []

    def write(self, data: bytes | bytearray | memoryview) -> None:
        if not self._held:
            self._loop.call_soon(self.flush)
        self._held.append(bytes(data))

    def flush(self) -> None:
        if self._held:
            data = b"".join(self._held)
            self._held.clear()
            if not self._transport.is_closing():
                self._transport.write(data)

    def close(self) -> None:
        self.flush()
        self._transport.close()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class HeaderDeadlineProtocol(HttpToolsProtocol):
    """httptools' protocol, with a request's headers due within ``header_timeout`` seconds of the
    connection opening (or of the request's first byte, on a kept-alive connection)."""

    # None: read once per process from the settings ``nerd serve`` handed on (uvicorn gives a protocol
    # class no settings of its own).
    header_timeout: ClassVar[float | None] = None
    # The setting a 408 names; a subclass for another app (nerd review) names its own.
    timeout_setting: ClassVar[str] = "NERD_HEADER_TIMEOUT_S"

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
        detail = f"request headers not complete within {self._timeout():g} s ({self.timeout_setting})"
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
        before = self.cycle
        super().on_headers_complete()
        if self.cycle is not None and self.cycle is not before:  # not made for an upgrade request
            self.cycle.transport = OneWriteTransport(self.transport, self.loop)  # type: ignore[assignment]

    def connection_lost(self, exc: Exception | None) -> None:
        self._disarm()
        super().connection_lost(exc)
