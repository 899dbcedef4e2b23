"""Review databases, apps and signed-in clients made the same way by every review test."""

from fastapi.testclient import TestClient

from nerd.review.app import create_review_app
from nerd.review.settings import ReviewSettings
from nerd.review.store import NewItem, ReviewStore
from nerd.review.users import Role, add_user

LABELS = ["PER", "ORG", "LOC", "MISC"]
PASSWORD = "correct horse"


def sentences(count, start=0):
    return [
        NewItem(tokens=(f"Name{n}", "visited", "Oslo", "."), source=f"s.txt:{n + 1}", teacher=[[0, 1, "PER"]])
        for n in range(start, start + count)
    ]


def made(db, items=None, **options):
    store = ReviewStore(db, create=True)
    store.create(LABELS, {"PER": "people", "ORG": "organisations", "LOC": "places", "MISC": "the rest"})
    store.add_items(items if items is not None else sentences(6), **options)
    return store


def with_users(store, *names, role=Role.reviewer):
    for name in names:
        add_user(store, name, role, PASSWORD)
    return store


def client(store, settings=None, base_url="http://127.0.0.1"):
    return TestClient(create_review_app(store, settings or ReviewSettings()), base_url=base_url)


def signed_in(store, name, settings=None):
    test_client = client(store, settings)
    answer = test_client.post("/api/login", json={"name": name, "password": PASSWORD})
    assert answer.status_code == 204, answer.text
    return test_client


def accept(test_client, item_id, spans=(), **extra):
    body = {
        "action": "accept",
        "spans": [{"start": s, "end": e, "label": label} for s, e, label in spans],
        **extra,
    }
    return test_client.post(f"/api/items/{item_id}/decisions", json=body)
