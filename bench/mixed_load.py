"""Benchmark: one-sentence requests beside maximal ones (issue 19: a big request must not stall
everyone, and memory must stay bounded). Run it on a quiet machine.

Usage: python bench/mixed_load.py [BUNDLE_DIR] [--seconds 30] [--big-clients 4] [--small-clients 16]

Big clients send 48 texts of 20,000 characters each (CoNLL dev sentences joined), small ones one
sentence. Prints the small requests' latency percentiles, the big ones' count, and the server's RSS idle
and at the end. Targets: small p99 <= 250 ms, RSS within +100 MB of idle.
"""

from __future__ import annotations

import argparse
import http.client
import json
import subprocess
import sys
import threading
import time
from pathlib import Path

from nerd.conll import read_conll
from nerd.evaluation.http_load import free_port, percentiles_ms, rss_mb, wait_until_ready


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, nargs="?")
    parser.add_argument("--data", type=Path, default=Path("../shared/data/conll2003/valid.txt"))
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--big-clients", type=int, default=4)
    parser.add_argument("--small-clients", type=int, default=16)
    args = parser.parse_args()
    sentences = [" ".join(s.tokens) for s in read_conll(args.data).sentences]
    long_text = " ".join(sentences)[:20_000]
    big_body = json.dumps({"texts": [long_text] * 48}).encode()
    port = free_port()
    command = [str(Path(sys.executable).with_name("nerd")), "serve", "--port", str(port)]
    command += ["--model", str(args.bundle)] if args.bundle else []
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    small: list[float] = []
    big: list[float] = []
    errors: list[str] = []
    try:
        wait_until_ready(f"http://127.0.0.1:{port}")
        idle = rss_mb(server.pid)
        stop = time.monotonic() + args.seconds

        def client(body: bytes, into: list[float]) -> None:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=900)
            while time.monotonic() < stop:
                tick = time.perf_counter()
                connection.request(
                    "POST", "/v1/entities", body=body, headers={"Content-Type": "application/json"}
                )
                response = connection.getresponse()
                response.read()
                if response.status != 200:
                    errors.append(str(response.status))
                into.append(time.perf_counter() - tick)

        threads = [threading.Thread(target=client, args=(big_body, big)) for _ in range(args.big_clients)]
        for index in range(args.small_clients):
            body = json.dumps({"text": sentences[index * 7 % len(sentences)]}).encode()
            threads.append(threading.Thread(target=client, args=(body, small)))
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        end = rss_mb(server.pid)
    finally:
        server.terminate()
        server.wait(timeout=30)
    report = {
        "load_average": Path("/proc/loadavg").read_text().split()[:3],
        "small": {"requests": len(small), **percentiles_ms(small)},
        "big": {"requests": len(big), **percentiles_ms(big)},
        "errors": len(errors),
        "rss_mb_idle": idle,
        "rss_mb_end": end,
    }
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
