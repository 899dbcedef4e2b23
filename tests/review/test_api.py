"""The review API over a real database: what the page does, as a script would do it, and what a hostile
or broken request gets."""

import pytest

from nerd.review.errors import NotAReviewDatabase
from nerd.review.settings import ReviewSettings
from nerd.review.store import NewItem, ReviewStore
from tests.review.factories import LABELS, accept, client, made, signed_in, with_users


@pytest.fixture
def store(db):
    items = [
        NewItem(
            ("Ann", "met", "Bob", "in", "Oslo", "."),
            "s.txt:1",
            teacher=[[0, 1, "PER"]],
            model=[[0, 1, "PER", 0.9]],
        ),
        NewItem(
            ("Acme", "fell", "."),
            "s.txt:2",
            teacher=[[0, 1, "ORG"]],
            model=[[0, 1, "LOC", 0.6]],
            disagreement=1.0,
        ),
        NewItem(tuple(f"w{i}" for i in range(500)), "long.txt:1"),
        NewItem(("شركة", "أرامكو", "في", "الرياض", "🎉", "\u202eevil"), "rtl.txt:1"),
    ]
    return with_users(made(db, items), "ann", "ben")


def test_a_reviewer_works_through_the_queue(store):
    ann = signed_in(store, "ann")
    project = ann.get("/api/project").json()
    assert project["labels"] == LABELS and project["items"] == 4 and project["definitions"]["PER"] == "people"
    item = ann.get("/api/next").json()
    assert item["id"] == 1 and item["lease_expires"] > 0 and item["decision"] is None
    assert item["model"][0]["confidence"] == 0.9
    spans = [(0, 1, "PER"), (2, 3, "PER"), (4, 5, "LOC")]
    made_ = accept(ann, 1, spans, client_id="c-1")
    assert made_.status_code == 201 and [s["label"] for s in made_.json()["spans"]] == ["PER", "PER", "LOC"]
    # The same decision sent again after a dropped connection: the first one, 200, nothing new.
    again = accept(ann, 1, spans, client_id="c-1")
    assert again.status_code == 200 and again.json()["id"] == made_.json()["id"]
    assert ann.get("/api/next").json()["id"] == 2
    assert ann.post("/api/items/2/decisions", json={"action": "reject"}).status_code == 201
    progress = ann.get("/api/progress").json()
    assert progress["done"] == 2 and progress["remaining"] == 2 and progress["total"] == 4
    undone = ann.post("/api/items/2/undo")
    assert undone.status_code == 201 and undone.json()["action"] == "undo"
    assert ann.post("/api/items/2/undo").status_code == 409
    history = ann.get("/api/history").json()["entries"]
    assert [entry["decision"]["item_id"] for entry in history] == [1]


def test_a_second_reviewer_is_served_another_sentence_and_refused_the_first(store):
    ann, ben = signed_in(store, "ann"), signed_in(store, "ben")
    assert ann.get("/api/next").json()["id"] == 1
    assert ben.get("/api/next").json()["id"] == 2
    refused = accept(ben, 1)
    assert refused.status_code == 409 and "being reviewed by ann" in refused.json()["detail"]
    assert ben.post("/api/items/1/lease").status_code == 409


def test_bad_spans_and_bodies_are_clear_refusals_that_do_not_echo_the_input(store):
    ann = signed_in(store, "ann")
    for spans, reason in (
        ([(0, 9, "PER")], "not within the 6 tokens"),
        ([(0, 1, "DATE")], "'DATE' is not one of"),
        ([(0, 2, "PER"), (1, 3, "LOC")], "overlap another entity"),
    ):
        answer = accept(ann, 1, spans)
        assert answer.status_code == 422 and reason in answer.json()["detail"]
    secret = "CONFIDENTIAL-" * 1000
    answer = ann.post("/api/items/1/decisions", json={"action": secret})
    assert answer.status_code == 422 and "CONFIDENTIAL" not in answer.text
    assert answer.json()["message"].startswith("action:")
    assert ann.post("/api/items/99/decisions", json={"action": "skip"}).status_code == 404
    for too_big in ("99999999999999999999", str(2**31)):
        assert ann.post(f"/api/items/{too_big}/decisions", json={"action": "skip"}).status_code == 422
        assert ann.post(f"/api/decisions/{too_big}/undo").status_code == 422


def test_strict_json_a_key_twice_is_a_400_and_types_are_not_coerced(store):
    ann = signed_in(store, "ann")
    twice = ann.post(
        "/api/items/1/decisions",
        content=b'{"action": "skip", "action": "reject"}',
        headers={"content-type": "application/json"},
    )
    assert twice.status_code == 400 and "'action' appears twice" in twice.json()["detail"]
    # 0.0 is the integer 0 in JSON Schema (and so in the OpenAPI schema); "0", true and 0.5 are not.
    for start in ("0", True, 0.5):
        body = {"action": "accept", "spans": [{"start": start, "end": 1, "label": "PER"}]}
        assert ann.post("/api/items/1/decisions", json=body).status_code == 422, start
    assert store.decisions() == []


def test_a_body_over_the_limit_is_a_413_that_echoes_nothing(store):
    small = signed_in(store, "ann", ReviewSettings(max_body_bytes=2048))
    answer = small.post(
        "/api/items/1/decisions",
        content=b'{"action": "' + b"x" * 10_000 + b'"}',
        headers={"content-type": "application/json"},
    )
    assert (
        answer.status_code == 413
        and "--max-body-bytes" in answer.json()["detail"]
        and len(answer.content) < 200
    )


def test_right_to_left_and_emoji_sentences_come_back_as_they_went_in(store):
    ann = signed_in(store, "ann")
    item = ann.get("/api/items/4").json()
    assert item["tokens"] == ["شركة", "أرامكو", "في", "الرياض", "🎉", "\u202eevil"]


def test_head_of_the_page_and_the_schema_without_a_cdn(store):
    ann = signed_in(store, "ann")
    assert ann.head("/").status_code == 200
    schema = ann.get("/openapi.json").json()
    assert {
        "/api/next",
        "/api/items/{item_id}/decisions",
        "/api/items/{item_id}/settlement",
        "/api/history",
    } <= set(schema["paths"])
    assert ann.get("/docs").status_code == 404
    page = ann.get("/").text
    assert 'type="module"' in page and "http" not in page.split("<body>")[1]


def test_a_database_replaced_while_serving_answers_503_as_json_and_records_nothing(tmp_path):
    db = tmp_path / "x.db"
    store = with_users(made(str(db)), "ann")
    ann = signed_in(store, "ann")
    assert accept(ann, 1).status_code == 201
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"x.db{suffix}").unlink(missing_ok=True)
    answer = accept(ann, 2)
    assert answer.status_code == 503 and "deleted while serving" in answer.json()["detail"]
    # and no empty database was made in its place
    assert not db.exists()


def test_an_app_over_something_that_is_no_review_database_does_not_start(tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"nope" * 100)
    with pytest.raises(NotAReviewDatabase):
        client(ReviewStore(broken))
