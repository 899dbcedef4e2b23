"""The review API over a real database: what the page does, as a script would do it."""

import pytest
from fastapi.testclient import TestClient

from nerd.review.app import create_review_app
from nerd.review.store import NewItem, ReviewStore, ReviewStoreError

LABELS = ["PER", "ORG", "LOC", "MISC"]


@pytest.fixture
def client(db):
    store = ReviewStore(db)
    store.create(LABELS)
    store.add_items(
        [
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
            NewItem(tuple(f"w{i}" for i in range(5000)), "long.txt:1"),
            NewItem(("شركة", "أرامكو", "في", "الرياض", "🎉"), "rtl.txt:1"),
        ]
    )
    with TestClient(create_review_app(store, "given")) as test_client:
        yield test_client


def test_a_reviewer_works_through_the_queue(client):
    assert client.get("/api/project").json() == {"labels": LABELS, "order": "given", "items": 4}
    queue = client.get("/api/queue", params={"reviewer": "ann"}).json()
    assert queue["items"] == [1, 2, 3, 4] and queue["remaining"] == 4
    item = client.get("/api/items/1", params={"reviewer": "ann"}).json()
    assert item["teacher"] == [{"start": 0, "end": 1, "label": "PER", "confidence": None}]
    assert item["model"][0]["confidence"] == 0.9 and item["decision"] is None
    spans = [
        {"start": 0, "end": 1, "label": "PER"},
        {"start": 2, "end": 3, "label": "PER"},
        {"start": 4, "end": 5, "label": "LOC"},
    ]
    made = client.post("/api/items/1/decisions", json={"reviewer": "ann", "action": "accept", "spans": spans})
    assert made.status_code == 201 and made.json()["spans"] == spans
    assert client.get("/api/items/1", params={"reviewer": "ann"}).json()["decision"]["action"] == "accept"
    assert (
        client.post("/api/items/2/decisions", json={"reviewer": "ann", "action": "reject"}).status_code == 201
    )
    progress = client.get("/api/progress", params={"reviewer": "ann"}).json()
    assert progress["done"] == 2 and progress["remaining"] == 2 and progress["total"] == 4
    undone = client.post("/api/items/2/undo", json={"reviewer": "ann"})
    assert undone.status_code == 201 and undone.json()["action"] == "undo"
    assert client.get("/api/queue", params={"reviewer": "ann"}).json()["items"] == [2, 3, 4]
    nothing = client.post("/api/items/4/undo", json={"reviewer": "ann"})
    assert nothing.status_code == 409 and "no decision" in nothing.json()["detail"]


def test_bad_spans_names_and_bodies_are_clear_refusals(client):
    post = lambda body: client.post("/api/items/1/decisions", json=body)  # noqa: E731
    outside = post({"reviewer": "ann", "action": "accept", "spans": [{"start": 5, "end": 9, "label": "PER"}]})
    assert outside.status_code == 422 and "not within the 6 tokens" in outside.json()["detail"]
    unknown = post(
        {"reviewer": "ann", "action": "accept", "spans": [{"start": 0, "end": 1, "label": "person"}]}
    )
    assert unknown.status_code == 422 and "'person' is not one of PER" in unknown.json()["detail"]
    overlapping = post(
        {
            "reviewer": "ann",
            "action": "accept",
            "spans": [{"start": 0, "end": 2, "label": "PER"}, {"start": 1, "end": 3, "label": "ORG"}],
        }
    )
    assert overlapping.status_code == 422 and "overlap" in overlapping.json()["detail"]
    assert post({"reviewer": "a b", "action": "accept"}).status_code == 422
    assert (
        client.post("/api/items/99/decisions", json={"reviewer": "ann", "action": "skip"}).status_code == 404
    )
    nan = client.post("/api/items/1/decisions", content=b'{"reviewer": "ann", "action": "accept", "x": NaN}',
                      headers={"content-type": "application/json"})  # fmt: skip
    assert nan.status_code == 400
    assert client.get("/api/items/1", params={"reviewer": ""}).status_code == 422


def test_long_right_to_left_and_emoji_sentences_come_back_as_they_went_in(client):
    long = client.get("/api/items/3", params={"reviewer": "ann"}).json()
    assert len(long["tokens"]) == 5000
    spans = [{"start": 4990, "end": 5000, "label": "MISC"}]
    assert (
        client.post(
            "/api/items/3/decisions", json={"reviewer": "ann", "action": "accept", "spans": spans}
        ).status_code
        == 201
    )
    rtl = client.get("/api/items/4", params={"reviewer": "ann"}).json()
    assert rtl["tokens"] == ["شركة", "أرامكو", "في", "الرياض", "🎉"]


def test_the_api_is_in_the_openapi_schema_and_the_page_is_served_whole(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {
        "/api/queue",
        "/api/items/{item_id}",
        "/api/items/{item_id}/decisions",
        "/api/items/{item_id}/undo",
    } <= set(paths)
    page = client.get("/")
    assets = [client.get(f"/static/{name}") for name in ("review.js", "review.css")]
    assert page.status_code == 200 and all(asset.status_code == 200 for asset in assets)
    assert "http" not in page.text.replace("http-equiv", "")  # nothing from a CDN
    first_load = len(page.content) + sum(len(asset.content) for asset in assets)
    assert first_load <= 200_000
    assert client.get("/static/../app.py").status_code == 404


def test_an_app_over_something_that_is_no_review_database_does_not_start(tmp_path):
    with pytest.raises(ReviewStoreError, match="not a review database"):
        create_review_app(ReviewStore(tmp_path / "nothing.db"))
