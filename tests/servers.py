"""A uvicorn server in a thread, on a free loopback port, for tests that need real HTTP: the same helpers
the benchmarks use (``nerd.evaluation.http_load``)."""

from nerd.evaluation.http_load import free_port, serving_in_thread

serving = serving_in_thread

__all__ = ["free_port", "serving"]


def entities_request(body: bytes) -> bytes:
    """A complete raw HTTP/1.1 POST of ``body`` to /v1/entities, for tests that talk to the socket."""
    return (
        b"POST /v1/entities HTTP/1.1\r\nHost: x\r\nContent-Type: application/json\r\n"
        + f"Content-Length: {len(body)}\r\n\r\n".encode()
        + body
    )
