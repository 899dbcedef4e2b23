"""Benchmark of nerd review (issue 27's targets), printed as JSON with the CPU and the load before each:

1. server-side time to record a decision while 4 scripted reviewers decide at once, over real HTTP,
   on SQLite and on PostgreSQL (target p99 <= 50 ms): an ASGI wrapper times each POST from its arrival
   to its answer;
2. the page's first load: the HTML, script and style it fetches (target <= 200 KB);
3. ordering 10,000 sentences by the model's uncertainty: ``nerd review init`` with the shipped model on
   the first 10,000 sentences of CoNLL-2003 train (target <= 30 s on 2 cores).

Usage: python bench/review.py [--data ../shared/data] [--model models/en-conll-minilm-int8]
       [--postgres postgresql://postgres@127.0.0.1:5432/test] [--decisions 150]
Nothing else of ours may run meanwhile (the figures would be the other work's too).
"""

from __future__ import annotations

import argparse
import json
import sys
import tempfile
import threading
import time
import urllib.request
from pathlib import Path
from typing import Any

from nerd.evaluation.http_load import cpu_and_load, serving_in_thread
from nerd.review.app import create_review_app
from nerd.review.loading import Inputs
from nerd.review.setup import set_up_review
from nerd.review.store import NewItem, ReviewStore

REVIEWERS = ("ann", "bob", "cid", "dee")


class Timed:
    """ASGI wrapper: the seconds from a decision's arrival to the start of its answer."""

    def __init__(self, app: object) -> None:
        self.app = app
        self.seconds: list[float] = []

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if scope["type"] != "http" or not scope["path"].endswith("/decisions"):
            await self.app(scope, receive, send)  # type: ignore[operator]
            return
        started = time.perf_counter()

        async def timed_send(message: Any) -> None:
            if message["type"] == "http.response.start":
                self.seconds.append(time.perf_counter() - started)
            await send(message)

        await self.app(scope, receive, timed_send)  # type: ignore[operator]


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))]


def decisions(db: str, count: int) -> dict[str, object]:
    store = ReviewStore(db)
    store.create(["PER", "ORG", "LOC", "MISC"])
    tokens = [(f"Name{n}", "of", "Acme", "visited", "Oslo", "on", "Monday", ".") for n in range(count)]
    store.add_items([NewItem(t, "bench") for t in tokens])
    timed = Timed(create_review_app(store))
    spans = [
        {"start": 0, "end": 1, "label": "PER"},
        {"start": 2, "end": 3, "label": "ORG"},
        {"start": 4, "end": 5, "label": "LOC"},
    ]
    with serving_in_thread(timed) as url:

        def review(name: str) -> None:
            for item in range(1, count + 1):
                body = json.dumps({"reviewer": name, "action": "accept", "spans": spans}).encode()
                request = urllib.request.Request(
                    f"{url}/api/items/{item}/decisions", body, {"Content-Type": "application/json"}
                )
                with urllib.request.urlopen(request, timeout=30) as response:
                    assert response.status == 201

        before = cpu_and_load()
        threads = [threading.Thread(target=review, args=(name,)) for name in REVIEWERS]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
    ms = [s * 1000 for s in timed.seconds]
    return {
        **before,
        "decisions": len(ms),
        "p50_ms": round(percentile(ms, 50), 2),
        "p99_ms": round(percentile(ms, 99), 2),
        "max_ms": round(max(ms), 2),
        "decisions_per_s": round(len(ms) / wall, 1),
    }


def first_load() -> dict[str, object]:
    with tempfile.TemporaryDirectory() as directory:
        store = ReviewStore(Path(directory) / "r.db")
        store.create(["PER"])
        with serving_in_thread(create_review_app(store)) as url:
            sizes = {}
            for path in ("/", "/static/review.js", "/static/review.css", "/api/project"):
                with urllib.request.urlopen(url + path) as response:
                    sizes[path] = len(response.read())
    return {"bytes": sum(sizes.values()), "files": sizes}


def ordering(data: Path, model: Path, sentences: int) -> dict[str, object]:
    train = (data / "conll2003" / "train.txt").read_text(encoding="utf-8")
    # Distinct sentences: CoNLL train repeats some ("-DOCSTART-" aside), and a review keeps each once.
    seen: set[str] = set()
    blocks = []
    for block in train.split("\n\n"):
        words = " ".join(line.split(" ")[0] for line in block.strip().splitlines())
        if not words or "-DOCSTART-" in block or words in seen:
            continue
        seen.add(words)
        blocks.append(block.strip())
        if len(blocks) == sentences:
            break
    with tempfile.TemporaryDirectory() as directory:
        source = Path(directory) / "train-part.conll"
        source.write_text("\n\n".join(blocks) + "\n", encoding="utf-8")
        before = cpu_and_load()
        started = time.perf_counter()
        report = set_up_review(Path(directory) / "r.db", Inputs(texts=[source]), model=model)
        seconds = time.perf_counter() - started
        store = ReviewStore(Path(directory) / "r.db")
        tick = time.perf_counter()
        queue = store.queue("ann", "uncertainty")
        queue_seconds = time.perf_counter() - tick
    return {
        **before,
        "sentences": report.added,
        "init_seconds": round(seconds, 1),
        "queue_seconds": round(queue_seconds, 2),
        "queued": len(queue),
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", type=Path, default=Path("models/en-conll-minilm-int8"))
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--decisions", type=int, default=150, help="decisions per reviewer")
    parser.add_argument("--sentences", type=int, default=10_000)
    arguments = parser.parse_args()
    results: dict[str, object] = {"first_load": first_load()}
    with tempfile.TemporaryDirectory() as directory:
        results["sqlite"] = decisions(str(Path(directory) / "bench.db"), arguments.decisions)
    if arguments.postgres:
        from sqlalchemy import create_engine

        from nerd.review.store import Base, database_url

        engine = create_engine(database_url(arguments.postgres))
        Base.metadata.drop_all(engine)
        try:
            results["postgresql"] = decisions(arguments.postgres, arguments.decisions)
        finally:
            Base.metadata.drop_all(engine)
    results["ordering"] = ordering(arguments.data, arguments.model, arguments.sentences)
    sys.stdout.write(json.dumps(results, indent=2) + "\n")


if __name__ == "__main__":
    main()
