"""Benchmark: the server's memory over many model reloads (issue 19: a server reloaded daily for a year
must not grow). Run it on a quiet machine.

Usage: python bench/reloads.py [BUNDLE_DIR] [--reloads 100]

Starts ``nerd serve`` with an admin key, tags a sentence, then reloads the bundle N times (a sentence
tagged after each) and prints the server's RSS every tenth reload.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
import urllib.request
from pathlib import Path

from nerd.evaluation.http_load import free_port, rss_mb, wait_until_ready

SENTENCE = {"text": "Angela Merkel met Emmanuel Macron in Paris."}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path, nargs="?", help="default: the shipped model")
    parser.add_argument("--reloads", type=int, default=100)
    args = parser.parse_args()
    port = free_port()
    with tempfile.NamedTemporaryFile("w", suffix=".keys") as keys:
        keys.write("bench-admin-key\n")
        keys.flush()
        command = [str(Path(sys.executable).with_name("nerd")), "serve", "--port", str(port)]
        command += ["--admin-key-file", keys.name] + (["--model", str(args.bundle)] if args.bundle else [])
        server = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        base = f"http://127.0.0.1:{port}"

        def post(path: str, body: dict | None = None, admin: bool = False) -> int:
            headers = {"Content-Type": "application/json"}
            if admin:
                headers["Authorization"] = "Bearer bench-admin-key"
            request = urllib.request.Request(
                base + path, data=json.dumps(body or {}).encode(), headers=headers
            )
            with urllib.request.urlopen(request, timeout=120) as response:
                return response.status

        try:
            wait_until_ready(base)
            for _ in range(20):
                post("/v1/entities", SENTENCE)
            series = [rss_mb(server.pid)]
            tick = time.monotonic()
            for done in range(1, args.reloads + 1):
                assert post("/v1/admin/reload", admin=True) == 200
                post("/v1/entities", SENTENCE)
                if done % 10 == 0:
                    series.append(rss_mb(server.pid))
            seconds = time.monotonic() - tick
        finally:
            server.terminate()
            server.wait(timeout=30)
    report = {"reloads": args.reloads, "rss_mb_every_10": series, "seconds": round(seconds, 1)}
    sys.stdout.write(json.dumps(report) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
