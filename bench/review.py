"""Benchmark of nerd review for a team (issue 35's targets), printed as JSON with the CPU and the load
average before each part. A benchmark, not a test: run it on a quiet machine, nothing else of ours
running (pause background training with SIGSTOP).

1. A review of 100,000 items and 100,000 decisions already in it (written in bulk, as 20 earlier
   reviewers would have left them: every 10th item an overlap item), on SQLite and on PostgreSQL;
   ``nerd review serve`` runs it in its own process, and 8 scripted reviewers (one thread and one
   keep-alive connection each, their personal API tokens) work at once over HTTP: next item, decision,
   progress, as the page does after every key (each reviewer's first step, which opens the server's
   connections, is not timed). Latencies are the client's (what a person waits), in ms:
   targets next p99 <= 50, decision p99 <= 50, progress <= 50 (p99). Then the adjudicator's stats
   (target <= 2 s) and ``nerd review export`` (target <= 30 s).
2. ``nerd review init`` of 100,000 sentences with the shipped model on 2 cores (target <= 3 minutes):
   BBC's sentences, then CoNLL-2003 train's and dev's, then lower-cased copies of them until there are
   100,000 distinct ones (the model does the same work on a copy: same length, new tokens).

Usage: python bench/review.py [--data ../shared/data] [--model models/en-conll-minilm-int8]
       [--postgres postgresql://postgres@127.0.0.1:5432/test] [--items 100000] [--steps 100]
       [--skip-init] [--json out/review-bench.json]
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from sqlalchemy import bindparam, text

from nerd.atomic import atomic_write_text
from nerd.evaluation.http_load import cpu_and_load, free_port
from nerd.review.exporting import export_reviewed
from nerd.review.store import NewItem, ReviewStore
from nerd.review.tables import CurrentRow, DecisionRow, ItemRow
from nerd.review.users import Role, add_user, new_token

LABELS = ["PER", "ORG", "LOC", "MISC"]
EARLIER = [f"earlier{n}" for n in range(20)]
REVIEWERS = [f"reviewer{n}" for n in range(8)]
# Between a reviewer's answer and their next key: 0 is a script hammering the server, back to back.
THINK_S = 0.0
WORDS = "the of and to in a is that for on was with he it as his at by from Reuters said Monday".split()


def percentile(values: list[float], q: float) -> float:
    ordered = sorted(values)
    return round(ordered[min(len(ordered) - 1, max(0, round(q / 100 * len(ordered)) - 1))], 2)


def filled_review(db: str, items: int, decisions: int) -> ReviewStore:
    """A review of ``items`` sentences with ``decisions`` accepts already standing, in bulk."""
    rng = random.Random(35)
    store = ReviewStore(db, create=True)
    store.create(LABELS)
    sentences = []
    for n in range(items):
        tokens = (f"Name{n}", *rng.sample(WORDS, 8), "Oslo", ".")
        sentences.append(NewItem(tokens, f"bench.txt:{n + 1}", teacher=[[0, 1, "PER"], [9, 10, "LOC"]]))
    store.add_items(sentences, overlap_every=10)
    # The earlier reviewers decided items in order, two on each overlap item, until `decisions` were made.
    with store.database.writing() as session:
        rows = session.execute(text("SELECT id, overlap FROM items ORDER BY position")).all()
        events, current = [], []
        made = 0
        for item_id, overlap in rows:
            for slot in range(2 if overlap else 1):
                if made == decisions:
                    break
                made += 1
                who = EARLIER[(made + slot) % len(EARLIER)]
                spans = [[0, 1, "PER"], [9, 10, "LOC"]] if made % 7 else [[0, 1, "PER"]]
                events.append(
                    {
                        "id": made,
                        "item_id": item_id,
                        "reviewer": who,
                        "at": f"2026-12-01T09:{made % 60:02d}:00.000+00:00",
                        "action": "accept",
                        "spans": spans,
                        "suggested": None,
                    }
                )
                current.append({"item_id": item_id, "reviewer": who, "decision_id": made, "action": "accept"})
            if made == decisions:
                break
        for start in range(0, len(events), 5000):
            session.execute(DecisionRow.__table__.insert(), events[start : start + 5000])
            session.execute(CurrentRow.__table__.insert(), current[start : start + 5000])
        if store.database.dialect == "postgresql":
            # The ids were given: the sequence must start after them, as if the decisions were made.
            session.execute(
                text("SELECT setval(pg_get_serial_sequence('decisions', 'id'), :n)").bindparams(n=made)
            )
        by_item: dict[int, list[Any]] = {}
        for event in events:
            by_item.setdefault(event["item_id"], []).append(event["spans"])
        overlap_ids = {item_id for item_id, overlap in rows if overlap}
        updates = [
            {
                "i": item_id,
                "slots": (2 if item_id in overlap_ids else 1) - len(spans),
                "c": len({str(s) for s in spans}) > 1,
            }
            for item_id, spans in by_item.items()
        ]
        session.execute(
            ItemRow.__table__.update()
            .where(ItemRow.id == bindparam("i"))
            .values(open_slots=bindparam("slots"), conflict=bindparam("c")),
            updates,
        )
    with store.database.writing() as session:
        session.execute(
            text("UPDATE project SET open_items = (SELECT count(*) FROM items WHERE open_slots > 0)")
        )
    # As autovacuum would have by the time a review holds 100,000 decisions.
    store.analyze()
    for name in REVIEWERS:
        add_user(store, name, Role.reviewer, "bench password")
    add_user(store, "adjudicator", Role.adjudicator, "bench password")
    return store


def serve(db: str) -> tuple[subprocess.Popen[bytes], int]:
    port = free_port()
    nerd = str(Path(sys.executable).with_name("nerd"))
    # The server's own lines go to a file, read when something fails.
    log = (Path(tempfile.gettempdir()) / "nerd-review-bench-server.log").open("wb")
    server = subprocess.Popen([nerd, "review", "serve", db, "--port", str(port)], stdout=log, stderr=log)
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", "/health")
            if connection.getresponse().status == 200:
                return server, port
        except OSError:
            time.sleep(0.2)
    server.kill()
    raise SystemExit("nerd review serve did not start")


def call(
    connection: http.client.HTTPConnection, token: str, method: str, path: str, body: Any = None
) -> tuple[int, Any, float]:
    headers = {"Authorization": f"Bearer {token}"}
    payload = None
    if body is not None:
        payload = json.dumps(body)
        headers["Content-Type"] = "application/json"
    tick = time.perf_counter()
    connection.request(method, path, payload, headers)
    response = connection.getresponse()
    data = response.read()
    elapsed = (time.perf_counter() - tick) * 1000
    return response.status, json.loads(data) if data else None, elapsed


def team(db: str, store: ReviewStore, steps: int) -> dict[str, Any]:
    tokens = {name: new_token(store, name) for name in [*REVIEWERS, "adjudicator"]}
    server, port = serve(db)
    times: dict[str, list[float]] = {"next": [], "decision": [], "progress": []}
    served: list[tuple[str, int]] = []
    errors: list[str] = []
    lock = threading.Lock()

    def reviewer(name: str) -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        for step in range(steps):
            status, item, next_ms = call(connection, tokens[name], "GET", "/api/next")
            if status != 200:
                errors.append(f"{name} next {status}")
                return
            spans = [{"start": 0, "end": 1, "label": "PER"}]
            status, _, decision_ms = call(
                connection,
                tokens[name],
                "POST",
                f"/api/items/{item['id']}/decisions",
                {"action": "accept", "spans": spans, "client_id": f"{name}-{step}"},
            )
            if status != 201:
                errors.append(f"{name} decision {status}")
            status, _, progress_ms = call(connection, tokens[name], "GET", "/api/progress")
            time.sleep(THINK_S)
            with lock:
                served.append((name, item["id"]))
                if step == 0:
                    # Each reviewer's first step opens the server's database connections (5-120 ms on
                    # PostgreSQL), once per server start: served and checked, but not timed.
                    continue
                times["next"].append(next_ms)
                times["decision"].append(decision_ms)
                times["progress"].append(progress_ms)

    try:
        before = cpu_and_load()
        threads = [threading.Thread(target=reviewer, args=(name,)) for name in REVIEWERS]
        started = time.perf_counter()
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        wall = time.perf_counter() - started
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        stats_before = cpu_and_load()
        stats_ms = [call(connection, tokens["adjudicator"], "GET", "/api/stats")[2] for _ in range(3)]
    finally:
        server.terminate()
        server.wait(timeout=60)
    export_before = cpu_and_load()
    with tempfile.TemporaryDirectory() as directory:
        tick = time.perf_counter()
        counts = export_reviewed(
            ReviewStore(db), conll=Path(directory) / "gold.conll", jsonl=Path(directory) / "gold.jsonl"
        )
        export_s = time.perf_counter() - tick
    figures = {
        name: {
            "p50_ms": percentile(values, 50),
            "p99_ms": percentile(values, 99),
            "max_ms": round(max(values), 2),
        }
        for name, values in times.items()
    }
    return {
        **before,
        "reviewers": len(REVIEWERS),
        "steps": len(served),
        # An item served to one reviewer twice, or a non-overlap item to two: both must be 0.
        "served_twice_to_one": len(served) - len(set(served)),
        "single_items_to_two": _single_items_to_two(store, served),
        "errors": errors[:5],
        "steps_per_s": round(len(served) / wall, 1),
        **figures,
        "stats": {**stats_before, "median_s": round(statistics.median(stats_ms) / 1000, 2)},
        "export": {**export_before, "seconds": round(export_s, 1), "exported": counts.exported},
    }


def _single_items_to_two(store: ReviewStore, served: list[tuple[str, int]]) -> int:
    by_item: dict[int, set[str]] = {}
    for name, item_id in served:
        by_item.setdefault(item_id, set()).add(name)
    shared = [item_id for item_id, names in by_item.items() if len(names) > 1]
    return sum(1 for item_id in shared if not store.item(item_id).overlap)


def init_sentences(data: Path, count: int, directory: Path) -> Path:
    from nerd.annotation.prompt_inputs import InputFormat, read_sentences
    from nerd.conll import read_conll

    articles = directory / "bbc-articles.txt"
    lines = [
        json.loads(line)["text"]
        for line in (data / "bbc" / "bbc_fulltext.jsonl").read_text(encoding="utf-8").splitlines()
    ]
    articles.write_text("\n\n".join(text.replace("\n\n", "\n") for text in lines) + "\n", encoding="utf-8")
    base = [" ".join(s.tokens) for s in read_sentences(articles, InputFormat.articles)]
    for name in ("train.txt", "valid.txt"):
        base += [" ".join(s.tokens) for s in read_conll(data / "conll2003" / name).sentences]
    seen: dict[str, None] = {}
    for variant in (str, str.lower, str.upper, str.title):
        for sentence in base:
            seen.setdefault(variant(sentence))
            if len(seen) == count:
                break
        if len(seen) == count:
            break
    path = directory / "sentences.txt"
    path.write_text("\n".join(seen) + "\n", encoding="utf-8")
    return path


def init(data: Path, model: Path, count: int) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as directory:
        texts = init_sentences(data, count, Path(directory))
        nerd = str(Path(sys.executable).with_name("nerd"))
        before = cpu_and_load()
        tick = time.perf_counter()
        done = subprocess.run(
            [
                nerd,
                "review",
                "init",
                str(Path(directory) / "r.db"),
                "--texts",
                str(texts),
                "--text-format",
                "lines",
                "--model",
                str(model),
            ],
            capture_output=True,
            text=True,
            check=False,
        )
        seconds = time.perf_counter() - tick
    return {
        **before,
        "sentences": count,
        "seconds": round(seconds, 1),
        "exit_code": done.returncode,
        "said": done.stdout.strip()[:300] or done.stderr.strip()[-300:],
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", type=Path, default=Path("models/en-conll-minilm-int8"))
    parser.add_argument("--postgres", default="postgresql://postgres@127.0.0.1:5432/test")
    parser.add_argument("--items", type=int, default=100_000)
    parser.add_argument("--steps", type=int, default=100, help="items each of the 8 reviewers decides")
    parser.add_argument("--skip-init", action="store_true")
    parser.add_argument("--reviewers", type=int, default=8, help="scripted reviewers at once")
    parser.add_argument("--think-ms", type=float, default=0.0, help="each reviewer's pause between sentences")
    parser.add_argument("--no-sqlite", action="store_true")
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    global THINK_S
    THINK_S = arguments.think_ms / 1000
    REVIEWERS[:] = [f"reviewer{n}" for n in range(arguments.reviewers)]
    results: dict[str, Any] = {"think_ms": arguments.think_ms}
    if not arguments.no_sqlite:
        with tempfile.TemporaryDirectory() as directory:
            db = str(Path(directory) / "bench.db")
            tick = time.perf_counter()
            store = filled_review(db, arguments.items, arguments.items)
            results["sqlite"] = {
                "fill_s": round(time.perf_counter() - tick, 1),
                **team(db, store, arguments.steps),
            }
            store.close()
    if arguments.postgres:
        from sqlalchemy import create_engine

        from nerd.review.database import database_url

        engine = create_engine(database_url(arguments.postgres))
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
        tick = time.perf_counter()
        store = filled_review(arguments.postgres, arguments.items, arguments.items)
        results["postgresql"] = {
            "fill_s": round(time.perf_counter() - tick, 1),
            **team(arguments.postgres, store, arguments.steps),
        }
        store.close()
        with engine.begin() as connection:
            connection.execute(text("DROP SCHEMA public CASCADE"))
            connection.execute(text("CREATE SCHEMA public"))
    if not arguments.skip_init:
        results["init"] = init(arguments.data, arguments.model, arguments.items)
    output = json.dumps(results, indent=2) + "\n"
    sys.stdout.write(output)
    if arguments.json:
        atomic_write_text(arguments.json, output)


if __name__ == "__main__":
    os.environ.setdefault("PYTHONUNBUFFERED", "1")
    main()
