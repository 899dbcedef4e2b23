"""Benchmark: what a client waits for a request at the service's limits (64 texts of 15,000 characters),
and what one-sentence requests sent beside it meanwhile wait. Run it on a quiet machine.

Usage: python bench/limits.py [BUNDLE_DIR] [--data ../shared/data/bbc/bbc_fulltext.jsonl]

The texts are BBC articles joined and cut into 15,000-character pieces (prose, about 3,500 sub-tokens
each). Prints the big request's seconds, one such text's, and the small requests' median and maximum.
"""

from __future__ import annotations

import argparse
import http.client
import json
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path

from nerd.evaluation.http_load import free_port, wait_until_ready

TEXTS, CHARS = 64, 15_000


def post(port: int, body: dict) -> float:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=600)
    started = time.perf_counter()
    connection.request("POST", "/v1/entities", json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    response.read()
    assert response.status == 200, response.status
    connection.close()
    return time.perf_counter() - started


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, nargs="?")
    parser.add_argument("--data", type=Path, default=Path("../shared/data/bbc/bbc_fulltext.jsonl"))
    args = parser.parse_args()
    with args.data.open(encoding="utf-8") as stream:
        blob = " ".join(json.loads(line)["text"] for line in stream)
    texts = [blob[i * CHARS : (i + 1) * CHARS] for i in range(TEXTS)]
    port = free_port()
    command = [str(Path(sys.executable).with_name("nerd")), "serve", "--port", str(port)]
    command += ["--model", str(args.bundle)] if args.bundle else []
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        if not wait_until_ready(f"http://127.0.0.1:{port}"):
            raise SystemExit("the server did not get ready in 60 s")
        small: list[float] = []
        done = threading.Event()

        def small_requests() -> None:
            while not done.is_set():
                small.append(post(port, {"text": "Angela Merkel met Emmanuel Macron in Paris."}))
                time.sleep(0.2)

        beside = threading.Thread(target=small_requests)
        beside.start()
        big = post(port, {"texts": texts})
        done.set()
        beside.join()
        one = post(port, {"texts": texts[:1]})
    finally:
        server.terminate()
        server.wait()
    report = {
        "request": f"{TEXTS} texts of {CHARS} characters",
        "seconds": round(big, 2),
        "one_text_seconds": round(one, 3),
        "small_beside": len(small),
        "small_median_ms": round(statistics.median(small) * 1000, 1),
        "small_max_ms": round(max(small) * 1000, 1),
    }
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    sys.exit(main())
