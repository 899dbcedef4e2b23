"""Slow clients are dropped (issue 25, item 10): on fa6c330, 600 half-sent requests held open for 45 s
all stayed open. Headers are due within NERD_HEADER_TIMEOUT_S of a connection opening, a body within
NERD_BODY_TIMEOUT_S of its headers; either answers 408 and closes the connection."""

import socket
import time

import pytest

from nerd.service.http_protocol import HeaderDeadlineProtocol
from tests.servers import entities_request, serving


class QuickHeaderDeadline(HeaderDeadlineProtocol):
    header_timeout = 0.5


@pytest.fixture(scope="module")
def slow_server(exported_bundles):
    from nerd.service.app import create_app
    from nerd.service.settings import ServiceSettings

    out, _, _ = exported_bundles
    settings = ServiceSettings(_env_file=None, model_dir=out / "onnx-fp32", body_timeout_s=0.5)
    with serving(create_app(settings), http=QuickHeaderDeadline) as url:
        yield int(url.rsplit(":", 1)[1])


def open_slow(port, first_bytes, count):
    sockets = []
    for _ in range(count):
        connection = socket.create_connection(("127.0.0.1", port), timeout=10)
        if first_bytes:
            connection.sendall(first_bytes)
        sockets.append(connection)
    return sockets


def answer_of(connection):
    """What the server sent before closing: every byte up to its end of the connection."""
    chunks = []
    while True:
        chunk = connection.recv(65536)
        if not chunk:
            return b"".join(chunks)
        chunks.append(chunk)


@pytest.mark.parametrize(
    ("what", "first_bytes"),
    [
        ("nothing at all", b""),
        ("half a request line", b"POST /v1/ent"),
        (
            "headers without their end",
            b"POST /v1/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n",
        ),
    ],
)
def test_headers_that_never_complete_get_408_and_a_closed_connection(slow_server, what, first_bytes):
    sockets = open_slow(slow_server, first_bytes, 50)
    started = time.monotonic()
    try:
        answers = [answer_of(connection) for connection in sockets]  # each returns once the server closes
    finally:
        for connection in sockets:
            connection.close()
    assert time.monotonic() - started < 8, what
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers), (what, answers[:2])
    assert b"NERD_HEADER_TIMEOUT_S" in answers[0]


def test_a_body_that_never_completes_gets_408_and_a_closed_connection(slow_server):
    head = b"POST /v1/entities HTTP/1.1\r\nHost: x\r\nContent-Length: 100\r\n\r\n"
    sockets = open_slow(slow_server, head + b'{"text": "Al', 50)
    try:
        answers = [answer_of(connection) for connection in sockets]
    finally:
        for connection in sockets:
            connection.close()
    assert all(answer.startswith(b"HTTP/1.1 408") for answer in answers), answers[:2]
    assert b"NERD_BODY_TIMEOUT_S" in answers[0]


def test_a_kept_alive_connection_still_serves_prompt_requests(slow_server):
    request = entities_request(b'{"text": "Alma visited Quenby ."}')
    with socket.create_connection(("127.0.0.1", slow_server), timeout=10) as connection:
        for _ in range(3):
            connection.sendall(request)
            answer = connection.recv(65536)
            assert answer.startswith(b"HTTP/1.1 200"), answer[:200]
            time.sleep(0.3)  # idle between requests, under the keep-alive timeout: no 408
