"""A response leaves in one write (issue 28, the HTTP path): uvicorn wrote the head and the body apart,
two ``send`` calls for one small JSON answer."""

import asyncio
import socket
from typing import ClassVar

import pytest

from nerd.service.http_protocol import HeaderDeadlineProtocol, OneWriteTransport
from tests.servers import entities_request, serving


class RecordingTransport:
    """A test double of an asyncio transport: it records each write and never sends anything."""

    def __init__(self) -> None:
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes) -> None:
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str) -> str:
        return f"extra {name}"


def test_writes_in_one_turn_leave_together_and_later_ones_apart():
    async def scenario() -> list[bytes]:
        recorder = RecordingTransport()
        transport = OneWriteTransport(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"HTTP/1.1 200 OK\r\n\r\n")
        transport.write(memoryview(b'{"a": 1}'))
        assert recorder.writes == []  # held until the turn ends
        await asyncio.sleep(0)
        transport.write(b"later")
        await asyncio.sleep(0)
        assert transport.get_extra_info("peername") == "extra peername"
        return recorder.writes

    assert asyncio.run(scenario()) == [b'HTTP/1.1 200 OK\r\n\r\n{"a": 1}', b"later"]


def test_close_sends_what_is_held_first():
    async def scenario() -> RecordingTransport:
        recorder = RecordingTransport()
        transport = OneWriteTransport(recorder, asyncio.get_running_loop())  # type: ignore[arg-type]
        transport.write(b"head")
        transport.close()
        await asyncio.sleep(0)  # the scheduled flush finds nothing left and writes nothing
        return recorder

    recorder = asyncio.run(scenario())
    assert recorder.writes == [b"head"]
    assert recorder.closed


class CountingProtocol(HeaderDeadlineProtocol):
    """The service's protocol over a transport that counts the writes reaching the socket."""

    writes: ClassVar[list[bytes]] = []

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        super().connection_made(CountingTransport(transport))  # type: ignore[arg-type]


class CountingTransport:
    """A test double around the real transport: counts the writes, passes everything on."""

    def __init__(self, transport: asyncio.Transport) -> None:
        self.transport = transport

    def write(self, data: bytes) -> None:
        CountingProtocol.writes.append(bytes(data))
        self.transport.write(data)

    def __getattr__(self, name: str):
        return getattr(self.transport, name)


@pytest.fixture(scope="module")
def counting_server(exported_bundles):
    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    out, _, _ = exported_bundles
    settings = ServiceSettings(_env_file=None, model_dir=out / "onnx-fp32")
    with serving(create_app(settings), http=CountingProtocol) as url:
        yield int(url.rsplit(":", 1)[1])


def test_each_response_of_a_kept_alive_connection_is_one_write(counting_server):
    request = entities_request(b'{"text": "Alma visited Quenby ."}')
    CountingProtocol.writes.clear()
    with socket.create_connection(("127.0.0.1", counting_server), timeout=10) as connection:
        for _ in range(3):
            connection.sendall(request)
            answer = b""
            while b'"entities"' not in answer or not answer.endswith(b"}"):
                answer += connection.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
    assert len(CountingProtocol.writes) == 3
    assert all(
        write.startswith(b"HTTP/1.1 200") and write.endswith(b"}") for write in CountingProtocol.writes
    )
