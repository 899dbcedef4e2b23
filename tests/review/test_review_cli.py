"""nerd review init / serve / export / stats from the command line, a model's suggestions, other label
sets, and a server killed with SIGKILL mid-session."""

import http.client
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nerd.cli.main import app
from nerd.review.store import ReviewStore
from tests.servers import free_port

runner = CliRunner()
WNUT = {
    "person": "people",
    "location": "places",
    "corporation": "companies",
    "product": "products",
    "creative-work": "titles",
    "group": "groups",
}


def records_file(path, rows):
    path.write_text("".join(json.dumps({"id": i, "tokens": t, "tags": g}) + "\n" for i, t, g in rows))
    return path


def test_init_with_teacher_records_texts_and_a_model_then_export_and_stats(tmp_path, bundle):
    teacher = records_file(
        tmp_path / "data.jsonl",
        [
            ("t1", ["Alma", "visited", "Quenby", "."], ["B-PER", "O", "B-LOC", "O"]),
            ("t2", ["Ibex", "met", "."], ["B-ORG", "O", "O"]),
        ],
    )
    texts = tmp_path / "texts.txt"
    texts.write_text("Borel went to Tarn .\nAlma visited Quenby .\n")  # the second is the teacher's too
    labels = tmp_path / "labels.json"
    labels.write_text(json.dumps({"PER": "people", "LOC": "places", "ORG": "organisations"}))
    db = str(tmp_path / "r.db")
    made = runner.invoke(
        app,
        [
            "review",
            "init",
            db,
            "--teacher",
            str(teacher),
            "--texts",
            str(texts),
            "--labels",
            str(labels),
            "--model",
            str(bundle),
        ],
    )
    assert made.exit_code == 0, made.output
    assert "3 sentence(s) added" in made.output and "1 already there or repeated" in made.output
    store = ReviewStore(db)
    items = store.items()
    assert all(item.model is not None for item in items)
    assert all(0.0 <= span[3] <= 1.0 for item in items for span in item.model)
    store.decide(1, "ann", "accept", [[0, 1, "PER"], [2, 3, "LOC"]])
    store.decide(2, "ann", "reject")
    out = tmp_path / "gold.conll"
    exported = runner.invoke(app, ["review", "export", db, "--conll", str(out)])
    assert exported.exit_code == 0 and "1 sentence(s) exported; 1 rejected" in exported.output
    assert out.read_text() == "Alma B-PER\nvisited O\nQuenby B-LOC\n. O\n\n"
    stats = runner.invoke(app, ["review", "stats", db, "--json", str(tmp_path / "stats.json")])
    assert stats.exit_code == 0 and "teacher against the reviewed data" in stats.output
    assert json.loads((tmp_path / "stats.json").read_text())["exported"] == 1


def test_any_label_set_works_and_a_model_of_other_labels_is_refused(tmp_path, bundle):
    labels = tmp_path / "wnut.json"
    labels.write_text(json.dumps(WNUT))
    texts = tmp_path / "tweets.txt"
    texts.write_text("new iphone from apple out now\n")
    db = str(tmp_path / "w.db")
    assert (
        runner.invoke(app, ["review", "init", db, "--texts", str(texts), "--labels", str(labels)]).exit_code
        == 0
    )
    assert ReviewStore(db).labels() == list(WNUT)
    refused = runner.invoke(
        app,
        [
            "review",
            "init",
            str(tmp_path / "x.db"),
            "--texts",
            str(texts),
            "--labels",
            str(labels),
            "--model",
            str(bundle),
        ],
    )
    assert refused.exit_code == 1 and "the review's label set is" in refused.output
    conll = runner.invoke(
        app, ["review", "init", db, "--texts", str(texts)]
    )  # CoNLL's labels, WNUT's database
    assert conll.exit_code == 1 and "made for the labels person" in conll.output
    assert runner.invoke(app, ["review", "init", str(tmp_path / "e.db")]).exit_code == 1  # no input at all


def post(port, path, body):
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=10)
    connection.request("POST", path, json.dumps(body), {"Content-Type": "application/json"})
    response = connection.getresponse()
    data = json.loads(response.read())
    connection.close()
    return response.status, data


def test_no_acknowledged_decision_is_lost_when_the_server_is_killed(tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("".join(f"Name{n} visited Oslo .\n" for n in range(40)))
    db = str(tmp_path / "k.db")
    assert runner.invoke(app, ["review", "init", db, "--texts", str(texts)]).exit_code == 0
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("nerd")), "review", "serve", db, "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "PYTHONUNBUFFERED": "1"},
    )
    acknowledged = []
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/api/project")
                break
            except OSError:
                time.sleep(0.2)
        for item in range(1, 31):
            status, decision = post(
                port,
                f"/api/items/{item}/decisions",
                {"reviewer": "ann", "action": "accept", "spans": [{"start": 0, "end": 1, "label": "PER"}]},
            )
            assert status == 201
            acknowledged.append(decision["id"])
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    recorded = {decision.id for decision in ReviewStore(db).decisions()}
    assert set(acknowledged) <= recorded and len(acknowledged) == 30


@pytest.mark.parametrize("command", ["serve", "export", "stats"])
def test_a_database_that_is_not_one_is_one_line(tmp_path, command):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"nope" * 1000)
    extra = ["--conll", str(tmp_path / "x.conll")] if command == "export" else []
    result = runner.invoke(app, ["review", command, str(broken), *extra])
    assert result.exit_code == 1 and "broken.db" in result.output and "Traceback" not in result.output
