"""nerd review init / serve / export / stats / users / backup from the command line, a model's
suggestions, other label sets, bad inputs refused with their line, and a server killed with SIGKILL or
stopped with SIGTERM mid-session."""

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
    assert "--order uncertainty" in made.output
    store = ReviewStore(db)
    items = store.items()
    assert all(item.model is not None for item in items)
    # Each item says where it is in the files given: data.jsonl's line, not the teacher's answer line.
    assert [item.source for item in items] == [f"{teacher}:1", f"{teacher}:2", f"{texts}:1"]
    assert all(0.0 <= span[3] <= 1.0 for item in items for span in item.model)
    store.decide(1, "ann", "accept", [[0, 1, "PER"], [2, 3, "LOC"]])
    store.decide(2, "ann", "reject")
    out = tmp_path / "gold.conll"
    exported = runner.invoke(app, ["review", "export", db, "--conll", str(out)])
    assert (
        exported.exit_code == 0
        and "1 sentence(s) exported (0 settled by an adjudicator); 1 rejected" in exported.output
    )
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
                {"action": "accept", "spans": [{"start": 0, "end": 1, "label": "PER"}]},
            )
            assert status == 201
            acknowledged.append(decision["id"])
    finally:
        server.send_signal(signal.SIGKILL)
        server.wait(timeout=10)
    recorded = {decision.id for decision in ReviewStore(db).decisions()}
    assert set(acknowledged) <= recorded and len(acknowledged) == 30


def wait_for(port):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            http.client.HTTPConnection("127.0.0.1", port, timeout=1).request("GET", "/health")
            return
        except OSError:
            time.sleep(0.2)
    raise AssertionError(f"nerd review serve did not answer on port {port} within 60 s")


def test_sigterm_leaves_every_acknowledged_decision_in_the_db_file_alone(tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("".join(f"Name{n} visited Oslo .\n" for n in range(10)))
    db = tmp_path / "t.db"
    assert runner.invoke(app, ["review", "init", str(db), "--texts", str(texts)]).exit_code == 0
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("nerd")), "review", "serve", str(db), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        for item in range(1, 6):
            assert post(port, f"/api/items/{item}/decisions", {"action": "reject"})[0] == 201
    finally:
        server.send_signal(signal.SIGTERM)
        server.wait(timeout=30)
    copy = tmp_path / "copy.db"
    copy.write_bytes(db.read_bytes())  # the .db file alone, no -wal beside it
    assert len(ReviewStore(copy).decisions()) == 5


def test_trickled_headers_and_bodies_are_cut_off_with_a_408(tmp_path):
    import socket

    texts = tmp_path / "texts.txt"
    texts.write_text("Name visited Oslo .\n")
    db = str(tmp_path / "r.db")
    runner.invoke(app, ["review", "init", db, "--texts", str(texts)])
    port = free_port()
    nerd = str(Path(sys.executable).with_name("nerd"))
    server = subprocess.Popen(
        [nerd, "review", "serve", db, "--port", str(port), "--header-timeout", "1", "--body-timeout", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        wait_for(port)
        for request in (
            b"GET /api/me HTTP/1.1\r\nHost: 127.0.0.1\r\n",
            b"POST /api/items/1/decisions HTTP/1.1\r\n"
            b"Host: 127.0.0.1\r\nContent-Type: application/json\r\nContent-Length: 100\r\n\r\n{",
        ):
            with socket.create_connection(("127.0.0.1", port), timeout=10) as connection:
                connection.sendall(request)  # and then nothing more
                answer = connection.recv(4096)
            assert answer.startswith(b"HTTP/1.1 408"), answer[:80]
            assert b"--header-timeout" in answer or b"--body-timeout" in answer
    finally:
        server.terminate()
        server.wait(timeout=30)


def test_serving_off_loopback_without_users_is_refused_with_how_to_add_one(tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("Name visited Oslo .\n")
    db = str(tmp_path / "r.db")
    runner.invoke(app, ["review", "init", db, "--texts", str(texts)])
    result = runner.invoke(app, ["review", "serve", db, "--host", "0.0.0.0", "--port", str(free_port())])
    assert result.exit_code == 1 and f"nerd review users add {db} NAME" in result.output


def test_users_are_added_listed_given_tokens_and_disabled(tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("Name visited Oslo .\n")
    db = str(tmp_path / "r.db")
    runner.invoke(app, ["review", "init", db, "--texts", str(texts)])
    password = tmp_path / "pw"
    password.write_text("a long enough secret\n")
    added = runner.invoke(
        app,
        [
            "review",
            "users",
            "add",
            db,
            "Zoë O'Brien",
            "--role",
            "adjudicator",
            "--password-file",
            str(password),
        ],
    )
    assert added.exit_code == 0 and "Zoë O'Brien added as adjudicator" in added.output
    typed = runner.invoke(
        app, ["review", "users", "add", db, "Anna Smith"], input="another secret\nanother secret\n"
    )
    assert typed.exit_code == 0, typed.output
    again = runner.invoke(app, ["review", "users", "add", db, "Anna Smith", "--password-file", str(password)])
    assert again.exit_code == 1 and "already a user 'Anna Smith'" in again.output
    bad = runner.invoke(app, ["review", "users", "add", db, "tab\tname", "--password-file", str(password)])
    assert bad.exit_code == 1 and "U+0009" in bad.output
    token = runner.invoke(app, ["review", "users", "token", db, "Anna Smith"])
    assert token.exit_code == 0 and token.output.startswith("nrv_")
    assert runner.invoke(app, ["review", "users", "disable", db, "Anna Smith"]).exit_code == 0
    listed = runner.invoke(app, ["review", "users", "list", db])
    assert "Zoë O'Brien" in listed.output and "disabled" in listed.output


def test_a_backup_of_a_live_database_is_a_review_database_of_its_own(tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("".join(f"Name{n} visited Oslo .\n" for n in range(5)))
    db = str(tmp_path / "r.db")
    runner.invoke(app, ["review", "init", db, "--texts", str(texts)])
    store = ReviewStore(db)
    store.decide(1, "ann", "accept", [[0, 1, "PER"]])
    backup = tmp_path / "backup.db"
    result = runner.invoke(app, ["review", "backup", db, str(backup)])
    assert result.exit_code == 0 and "5 item(s), 1 decision(s)" in result.output
    assert ReviewStore(backup).current(1, "ann").spans == [[0, 1, "PER"]]
    assert runner.invoke(app, ["review", "backup", db, str(backup)]).exit_code == 1  # never overwritten


def test_a_postgresql_review_is_backed_up_in_one_snapshot(tmp_path, postgres):
    from tests.review.factories import made

    store = made(postgres)
    store.decide(1, "ann", "accept", [[0, 1, "PER"]])
    result = runner.invoke(app, ["review", "backup", postgres, str(tmp_path / "pg.db")])
    assert result.exit_code == 0 and "6 item(s), 1 decision(s)" in result.output
    assert ReviewStore(tmp_path / "pg.db").labels() == store.labels()


def test_bad_tokens_are_refused_with_their_file_and_line_and_long_sentences_split(tmp_path):
    for tokens, why in ((["New York", "is"], "holds whitespace"), (["", "x"], "is empty")):
        teacher = records_file(tmp_path / "bad.jsonl", [("a", ["fine"], ["O"]), ("b", tokens, ["O", "O"])])
        db = tmp_path / "bad.db"
        result = runner.invoke(app, ["review", "init", str(db), "--teacher", str(teacher)])
        assert result.exit_code == 1 and f"{teacher}:2" in result.output and why in result.output
        assert not db.exists()
    long = tmp_path / "long.txt"
    long.write_text(" ".join(f"w{i}" for i in range(1200)) + "\n")
    db = str(tmp_path / "long.db")
    result = runner.invoke(app, ["review", "init", db, "--texts", str(long), "--max-tokens", "500"])
    assert result.exit_code == 0 and "1 sentence(s) over 500 tokens were split into 3 parts" in result.output
    assert [len(item.tokens) for item in ReviewStore(db).items()] == [500, 500, 200]


def test_init_refuses_another_program_s_database_before_writing_anything(tmp_path):
    import sqlite3

    other = tmp_path / "app.db"
    with sqlite3.connect(other) as connection:
        connection.execute("create table invoices (id integer)")
    before = other.read_bytes()
    texts = tmp_path / "texts.txt"
    texts.write_text("Name visited Oslo .\n")
    result = runner.invoke(app, ["review", "init", str(other), "--texts", str(texts)])
    assert result.exit_code == 1 and "another program's database" in result.output
    assert other.read_bytes() == before


@pytest.mark.parametrize("command", ["serve", "export", "stats", "upgrade", "backup"])
def test_a_mistyped_path_says_there_is_no_database_and_makes_none(tmp_path, command):
    extra = {"export": ["--conll", str(tmp_path / "x.conll")], "backup": [str(tmp_path / "b.db")]}.get(
        command, []
    )
    result = runner.invoke(app, ["review", command, str(tmp_path / "revew.db"), *extra])
    assert result.exit_code == 1 and "no review database there" in result.output
    assert list(tmp_path.iterdir()) == []


def test_a_postgresql_that_does_not_answer_is_named_as_such():
    result = runner.invoke(app, ["review", "stats", "postgresql://postgres@127.0.0.1:1/test"])
    assert result.exit_code == 1 and "does not answer" in result.output


def test_one_file_for_both_exports_is_refused(tmp_path):
    texts = tmp_path / "texts.txt"
    texts.write_text("Name visited Oslo .\n")
    db = str(tmp_path / "r.db")
    runner.invoke(app, ["review", "init", db, "--texts", str(texts)])
    same = str(tmp_path / "gold")
    result = runner.invoke(app, ["review", "export", db, "--conll", same, "--jsonl", same])
    assert result.exit_code == 1 and "name the same file" in result.output


def test_without_the_review_extra_every_review_command_says_which_to_install(monkeypatch):
    import nerd.cli.review_command as review_command

    monkeypatch.setattr(review_command, "EXTRA_MODULES", ("sqlalchemy", "no_such_module_here"))
    result = runner.invoke(app, ["review", "stats", "x.db"])
    assert (
        result.exit_code == 1
        and "pip install 'nerd[review]'" in result.output
        and "Traceback" not in result.output
    )


@pytest.mark.parametrize("command", ["serve", "export", "stats"])
def test_a_database_that_is_not_one_is_one_line(tmp_path, command):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"nope" * 1000)
    extra = ["--conll", str(tmp_path / "x.conll")] if command == "export" else []
    result = runner.invoke(app, ["review", command, str(broken), *extra])
    assert result.exit_code == 1 and "broken.db" in result.output and "Traceback" not in result.output
