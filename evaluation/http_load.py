"""Load over HTTP against a running ``nerd serve``: a fixed number of clients, keep-alive connections."""

from __future__ import annotations

import contextlib
import http.client
import json
import random
import socket
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any, TypedDict
from urllib.parse import urlsplit


def percentiles_ms(samples: Sequence[float]) -> dict[str, float | None]:
    """p50/p95/p99 in milliseconds (nearest rank).

    >>> percentiles_ms([0.001 * i for i in range(1, 101)])
    {'p50_ms': 51.0, 'p95_ms': 96.0, 'p99_ms': 100.0}
    """
    if not samples:
        return {"p50_ms": None, "p95_ms": None, "p99_ms": None}
    ordered = sorted(samples)

    def at(q: float) -> float:
        return round(ordered[min(len(ordered) - 1, int(q * len(ordered)))] * 1000, 3)

    return {"p50_ms": at(0.50), "p95_ms": at(0.95), "p99_ms": at(0.99)}


def free_port() -> int:
    """A loopback port nothing listens on now, for a server a benchmark starts."""
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def wait_until_ready(url: str, seconds: float = 60.0) -> bool:
    """Poll ``url``/readyz until it answers 200; False when ``seconds`` pass first."""
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        try:
            connection = _connection(url)
            connection.request("GET", "/readyz")
            if connection.getresponse().status == 200:
                return True
        except OSError:
            pass
        time.sleep(0.2)
    return False


def cpu_and_load() -> dict[str, str]:
    """The CPU model and the load average now: what every speed figure is reported beside."""
    try:
        cpuinfo = Path("/proc/cpuinfo").read_text().splitlines()
        load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:  # not Linux
        return {"cpu": "unknown", "loadavg": "unknown"}
    model = next(
        (line.split(":", 1)[1].strip() for line in cpuinfo if line.startswith("model name")), "unknown"
    )
    return {"cpu": model, "loadavg": load}


@contextlib.contextmanager
def serving_in_thread(app: Any, http: Any = "auto") -> Iterator[str]:
    """``app`` served by uvicorn on a free loopback port in a thread of this process (``http``:
    uvicorn's protocol, a name or a class); yields the base URL and stops the server on exit."""
    import uvicorn

    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", http=http))
    thread = threading.Thread(target=server.run, daemon=True)
    thread.start()
    deadline = time.monotonic() + 30
    while not server.started and time.monotonic() < deadline:
        time.sleep(0.05)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        thread.join(timeout=10)


def rss_mb(pid: int) -> int:
    """Resident memory of a process in MB (Linux), -1 when it cannot be read."""
    try:
        lines = Path(f"/proc/{pid}/status").read_text().splitlines()
    except OSError:
        return -1
    return next((int(line.split()[1]) // 1024 for line in lines if line.startswith("VmRSS:")), -1)


def _connection(url: str) -> http.client.HTTPConnection:
    parts = urlsplit(url)
    factory = http.client.HTTPSConnection if parts.scheme == "https" else http.client.HTTPConnection
    return factory(parts.hostname or "127.0.0.1", parts.port, timeout=30)


class HttpRow(TypedDict):
    """One concurrency of an HTTP load: requests, errors by kind, throughput and latency."""

    clients: int
    requests: int
    errors: dict[str, int]
    requests_per_s: float
    p50_ms: float | None
    p95_ms: float | None
    p99_ms: float | None


def run_clients(
    url: str,
    texts: Sequence[str],
    clients: int,
    *,
    seconds: float | None = None,
    requests_each: int | None = None,
    api_key: str | None = None,
) -> HttpRow:
    """``clients`` threads posting one text per request for ``seconds`` (or ``requests_each`` times)."""
    path = urlsplit(url).path.rstrip("/") + "/v1/entities"
    headers = {"Content-Type": "application/json"}
    if api_key:
        headers["Authorization"] = f"Bearer {api_key}"
    latencies: list[float] = []
    errors: dict[str, int] = {}
    lock = threading.Lock()
    stop_at = time.monotonic() + seconds if seconds else None

    def client(seed: int) -> None:
        rng = random.Random(seed)
        connection = _connection(url)
        done = 0
        while (stop_at is not None and time.monotonic() < stop_at) or (
            requests_each and done < requests_each
        ):
            body = json.dumps({"text": rng.choice(texts)})
            tick = time.perf_counter()
            kind = None
            try:
                connection.request("POST", path, body, headers)
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    kind = f"HTTP {response.status}"
            except (OSError, http.client.HTTPException) as error:
                kind = type(error).__name__
                connection.close()
                connection = _connection(url)
            elapsed = time.perf_counter() - tick
            with lock:
                if kind:
                    errors[kind] = errors.get(kind, 0) + 1
                else:
                    latencies.append(elapsed)
            done += 1
        connection.close()

    tick = time.perf_counter()
    threads = [threading.Thread(target=client, args=(index,)) for index in range(clients)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - tick
    timing = percentiles_ms(latencies)
    return {
        "clients": clients,
        "requests": len(latencies) + sum(errors.values()),
        "errors": errors,
        "requests_per_s": round(len(latencies) / wall, 1) if wall else 0.0,
        "p50_ms": timing["p50_ms"],
        "p95_ms": timing["p95_ms"],
        "p99_ms": timing["p99_ms"],
    }
