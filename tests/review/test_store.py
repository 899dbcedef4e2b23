"""The review database: items once each, decisions as events, undo as an event, queues, and errors."""

import sqlite3
import threading

import pytest

from nerd.review.store import NewItem, ReviewStore, ReviewStoreError

LABELS = ["PER", "ORG", "LOC", "MISC"]


def sentences(count):
    return [
        NewItem(tokens=(f"Name{n}", "visited", "Oslo", "."), source=f"s.txt:{n + 1}") for n in range(count)
    ]


def made(db, items=None, **options):
    store = ReviewStore(db)
    store.create(LABELS)
    store.add_items(items if items is not None else sentences(6), **options)
    return store


def test_a_sentence_is_kept_once_and_the_label_set_is_the_database_s(db):
    store = ReviewStore(db)
    store.create(LABELS)
    assert store.add_items(sentences(3) + sentences(3)) == (3, 3)
    assert store.add_items(sentences(4)) == (1, 3)
    assert [item.position for item in store.items()] == [1, 2, 3, 4]
    with pytest.raises(ReviewStoreError, match=r"made for the labels PER, ORG, LOC, MISC, not .*corporation"):
        ReviewStore(db).create(["person", "corporation", "location", "product", "creative-work", "group"])


def test_decisions_are_events_and_an_undo_takes_back_the_last_one(db):
    store = made(db)
    first = store.decide(1, "ann", "accept", [[0, 1, "PER"]], {"teacher": None, "model": None})
    assert store.current(1, "ann") == first
    second = store.decide(1, "ann", "accept", [[0, 1, "ORG"]])
    undo = store.decide(1, "ann", "undo")
    assert undo.undoes == second.id and store.current(1, "ann") == first
    store.decide(1, "ann", "undo")
    assert store.current(1, "ann") is None
    with pytest.raises(LookupError):
        store.decide(1, "ann", "undo")
    # Nothing is lost: every event stays, in order.
    assert [d.action for d in store.decisions(item_id=1)] == ["accept", "accept", "undo", "undo"]
    with pytest.raises(KeyError):
        store.decide(99, "ann", "accept", [])


def test_the_queue_skips_what_is_decided_puts_skips_last_and_follows_the_order(db):
    items = [
        NewItem(tokens=("a", str(n)), source="x", uncertainty=n / 10, disagreement=(5 - n) / 10)
        for n in range(6)
    ]
    store = made(db, items, overlap_every=3)
    assert store.queue("ann") == [1, 2, 3, 4, 5, 6]
    assert store.queue("ann", "uncertainty") == [6, 5, 4, 3, 2, 1]
    assert store.queue("ann", "disagreement") == [1, 2, 3, 4, 5, 6]
    store.decide(1, "ann", "skip")
    store.decide(2, "ann", "reject")
    assert store.queue("ann") == [3, 4, 5, 6, 1]
    # Item 3 is an overlap item: it waits for a second reviewer; item 2 needs nobody else.
    store.decide(3, "ann", "accept", [])
    assert store.queue("bob") == [1, 3, 4, 5, 6]
    store.decide(3, "bob", "accept", [])
    assert 3 not in store.queue("cid")


def test_four_reviewers_deciding_at_once_lose_nothing(db):
    store = made(db, sentences(40))
    errors = []

    def review(name):
        try:
            for item in range(1, 41):
                store.decide(item, name, "accept", [[0, 1, "PER"]])
        except Exception as error:  # reported below: the test fails on any
            errors.append(error)

    threads = [threading.Thread(target=review, args=(name,)) for name in ("ann", "bob", "cid", "dee")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert not errors
    assert len(store.decisions()) == 160
    assert all(len(decided) == 4 for decided in store.state().values())


def test_a_corrupted_file_and_a_file_that_is_no_review_database_are_clear_errors(tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"this is not a database" * 100)
    with pytest.raises(ReviewStoreError, match=r"broken\.db"):
        ReviewStore(broken).labels()
    empty = tmp_path / "empty.db"
    sqlite3.connect(empty).close()
    with pytest.raises(ReviewStoreError, match="not a review database"):
        ReviewStore(empty).labels()


def test_a_locked_database_is_a_clear_error_and_the_decision_can_be_made_again(tmp_path):
    db = tmp_path / "locked.db"
    store = made(str(db))
    holder = sqlite3.connect(db, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    try:
        with pytest.raises(ReviewStoreError, match="locked"):
            store.decide(1, "ann", "accept", [])
    finally:
        holder.rollback()
        holder.close()
    assert store.decide(1, "ann", "accept", []).action == "accept"
