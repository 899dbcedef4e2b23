"""The review database: items once each, decisions as events, undo as an event, the queue with its
leases, standing decisions kept in SQL, and clear errors."""

import sqlite3
import threading

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from sqlalchemy import text

from nerd.review.errors import (
    AlreadyDecided,
    BadSpans,
    DatabaseReplaced,
    LeasedToSomeoneElse,
    NoDatabase,
    NoSuchItem,
    NotAReviewDatabase,
    NothingToUndo,
)
from nerd.review.store import ReviewStore, ReviewStoreError
from tests.review.factories import LABELS, made, sentences


def test_a_sentence_is_kept_once_and_the_label_set_is_the_database_s(db):
    store = ReviewStore(db, create=True)
    store.create(LABELS)
    assert store.add_items(sentences(3) + sentences(3)) == (3, 3)
    assert store.add_items(sentences(4)) == (1, 3)
    assert [item.position for item in store.items()] == [1, 2, 3, 4]
    with pytest.raises(ReviewStoreError, match=r"made for the labels PER, ORG, LOC, MISC, not .*corporation"):
        ReviewStore(db).create(["person", "corporation", "location", "product", "creative-work", "group"])


def test_decisions_are_events_and_an_undo_takes_back_the_standing_one(db):
    store = made(db)
    first, new = store.decide(1, "ann", "accept", [[0, 1, "PER"]])
    assert new and store.current(1, "ann") == first
    second, _ = store.decide(1, "ann", "accept", [[0, 1, "ORG"]])
    assert store.current(1, "ann") == second
    undo = store.undo(second.id, "ann")
    assert undo.undoes == second.id and store.current(1, "ann") == first
    store.undo_last(1, "ann")
    assert store.current(1, "ann") is None
    with pytest.raises(NothingToUndo):
        store.undo_last(1, "ann")
    assert [d.action for d in store.decisions(item_id=1)] == ["accept", "accept", "undo", "undo"]


def test_a_decision_sent_twice_with_its_client_id_is_recorded_once(db):
    store = made(db)
    first, new = store.decide(1, "ann", "accept", [[0, 1, "PER"]], client_id="page-1")
    again, new_again = store.decide(1, "ann", "accept", [[0, 1, "PER"]], client_id="page-1")
    assert new and not new_again and again == first
    assert len(store.decisions()) == 1
    # Another reviewer's ids are their own.
    other, other_new = store.decide(2, "ben", "reject", client_id="page-1")
    assert other_new and other.id != first.id


def test_spans_are_checked_inside_the_store(db):
    store = made(db)
    for spans, reason in (
        ([[0, 9, "PER"]], "not within the 4 tokens"),
        ([[0, 1, "DATE"]], "'DATE' is not one of"),
        ([[0, 2, "PER"], [1, 3, "LOC"]], "overlap"),
    ):
        with pytest.raises(BadSpans, match=reason):
            store.decide(1, "ann", "accept", spans)
    with pytest.raises(NoSuchItem):
        store.decide(99, "ann", "skip")
    assert store.decisions() == []


def test_the_queue_skips_what_is_decided_puts_skips_last_and_follows_the_order(db):
    store = made(db, sentences(4))
    store.decide(1, "ann", "accept", [])
    store.decide(2, "ann", "skip")
    assert store.queue("ann") == [3, 4, 2]
    # Item 1 was someone's alone; ben is not served it.
    assert store.queue("ben") == [2, 3, 4]


def test_no_one_is_served_an_item_leased_to_someone_else(db):
    store = made(db, sentences(3))
    anna, _ = store.next_item("anna")
    ben, _ = store.next_item("ben")
    assert anna.id == 1 and ben.id == 2
    # Asking again gives each the item they hold.
    assert store.next_item("anna")[0].id == 1
    with pytest.raises(LeasedToSomeoneElse, match="being reviewed by anna"):
        store.decide(1, "ben", "accept", [])
    store.decide(1, "anna", "accept", [])
    with pytest.raises(AlreadyDecided, match=r"has the decisions it needs \(anna\)"):
        store.decide(1, "ben", "accept", [])
    # A lease that ran out frees the item.
    cleo, _ = store.next_item("cleo", lease_s=-1)
    assert cleo.id == 3 and store.next_item("dan")[0].id == 3


def test_an_overlap_item_goes_to_exactly_two_reviewers(db):
    store = made(db, sentences(2), overlap_every=1)
    assert [store.next_item(who)[0].id for who in ("anna", "ben", "cleo", "dan")] == [1, 1, 2, 2]
    assert store.next_item("eve") is None
    store.decide(1, "anna", "accept", [])
    store.decide(1, "ben", "accept", [[0, 1, "PER"]])
    assert store.item(1).open_slots == 0 and store.item(1).conflict


def test_two_undos_of_one_decision_at_once_record_one(db):
    store = made(db, sentences(40))
    wins, refusals = [], []
    for item in range(1, 41):
        decision, _ = store.decide(item, "ann", "accept", [])
        barrier = threading.Barrier(2)

        def undo(target=decision.id, barrier=barrier):
            barrier.wait()
            try:
                wins.append(ReviewStore(db).undo(target, "ann"))
            except NothingToUndo:
                refusals.append(target)

        threads = [threading.Thread(target=undo) for _ in range(2)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
    assert len(wins) == 40 and len(refusals) == 40
    undos = [d for d in store.decisions() if d.action == "undo"]
    assert len(undos) == 40 and len({d.undoes for d in undos}) == 40


def test_four_reviewers_asking_at_once_are_never_served_the_same_item(db):
    store = made(db, sentences(60))
    served: dict[str, list[int]] = {}

    def work(name):
        mine = ReviewStore(db)
        served[name] = []
        while (found := mine.next_item(name)) is not None:
            served[name].append(found[0].id)
            mine.decide(found[0].id, name, "accept", [])

    threads = [threading.Thread(target=work, args=(name,)) for name in ("anna", "ben", "cleo", "dan")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    everything = [item for items in served.values() for item in items]
    assert sorted(everything) == list(range(1, 61))
    assert len(store.decisions()) == 60


# A random session of one reviewer pair: whatever they do, the standing decisions kept in SQL are
# what replaying every event gives (the rule 722a394 computed on each request).
steps = st.lists(
    st.tuples(
        st.sampled_from(["ann", "ben"]),
        st.integers(1, 3),
        st.sampled_from(["accept", "reject", "skip", "undo"]),
    ),
    max_size=25,
)


@settings(max_examples=30, deadline=None)
@given(steps=steps)
def test_the_standing_decisions_are_what_replaying_the_events_gives(tmp_path_factory, steps):
    store = made(str(tmp_path_factory.mktemp("replay") / "r.db"), sentences(3), overlap_every=1)
    for who, item, action in steps:
        try:
            if action == "undo":
                store.undo_last(item, who)
            else:
                store.decide(item, who, action, [[0, 1, "PER"]] if action == "accept" else None)
        except (NothingToUndo, AlreadyDecided):
            pass
    events = store.decisions()
    undone = {e.undoes for e in events if e.action == "undo"}
    replayed: dict[tuple[int, str], int] = {}
    for event in events:
        if event.action != "undo" and event.id not in undone:
            replayed[(event.item_id, event.reviewer)] = event.id
    kept = {(item, who): d.id for item, by in store.standing().items() for who, d in by.items()}
    assert kept == replayed
    for item in store.items():
        deciding = [
            d for d in store.standing([item.id]).get(item.id, {}).values() if d.action in ("accept", "reject")
        ]
        assert item.open_slots == 2 - len(deciding)
    # The open items counted with each decision are the open items there are.
    assert store.progress("nobody").remaining == sum(1 for item in store.items() if item.open_slots > 0)
    assert store.progress("nobody").total == 3


def test_the_history_is_one_s_own_newest_first_and_searchable_in_any_script(db):
    store = made(db, [*sentences(3), *made_rtl()])
    for item in (1, 2, 4):
        store.decide(item, "ann", "accept", [])
    store.decide(3, "ben", "accept", [])
    assert [d.item_id for d, _ in store.history("ann")] == [4, 2, 1]
    assert [d.item_id for d, _ in store.history("ann", search="name1")] == [2]
    assert [d.item_id for d, _ in store.history("ann", search="الرياض")] == [4]
    newest = store.history("ann")[0][0]
    assert [d.item_id for d, _ in store.history("ann", limit=1, before=newest.id)] == [2]


def made_rtl():
    from nerd.review.store import NewItem

    return [NewItem(("شركة", "أرامكو", "في", "الرياض"), "rtl.txt:1")]


def test_a_mistyped_path_is_no_database_and_no_file_is_made(tmp_path):
    with pytest.raises(NoDatabase, match="no review database there"):
        ReviewStore(tmp_path / "revew.db")
    assert list(tmp_path.iterdir()) == []


def test_a_corrupted_file_and_another_program_s_database_are_clear_errors(tmp_path):
    broken = tmp_path / "broken.db"
    broken.write_bytes(b"not sqlite" * 100)
    with pytest.raises(NotAReviewDatabase, match=r"broken\.db"):
        ReviewStore(broken).labels()
    other = tmp_path / "other.db"
    with sqlite3.connect(other) as connection:
        connection.execute("create table accounts (id integer)")
    before = other.read_bytes()
    with pytest.raises(NotAReviewDatabase, match="another program's database"):
        ReviewStore(other, create=True)
    with pytest.raises(NotAReviewDatabase, match="another program's database"):
        ReviewStore(other).labels()
    assert other.read_bytes() == before


def test_a_locked_database_is_a_clear_error_and_the_decision_can_be_made_again(tmp_path):
    db = tmp_path / "locked.db"
    store = made(str(db))
    holder = sqlite3.connect(db, timeout=0)
    holder.execute("BEGIN EXCLUSIVE")
    import nerd.review.database as database

    store.database.writer.dispose()
    store.database.writer = database._sqlite_engine(db, create=False, begin="BEGIN IMMEDIATE")
    # busy_timeout is 10 s; a locked database must not hang the test that long.
    from sqlalchemy import event

    event.listen(store.database.writer, "connect", lambda c, _: c.execute("PRAGMA busy_timeout=100"))
    with pytest.raises(ReviewStoreError, match="locked"):
        store.decide(1, "ann", "accept", [])
    holder.rollback()
    holder.close()
    assert store.decide(1, "ann", "accept", [])[1]


def test_a_database_file_deleted_or_replaced_while_serving_takes_no_more_decisions(tmp_path):
    db = tmp_path / "x.db"
    store = made(str(db))
    store.open_for_serving()
    store.decide(1, "ann", "accept", [])
    for suffix in ("", "-wal", "-shm"):
        (tmp_path / f"x.db{suffix}").unlink(missing_ok=True)
    with pytest.raises(DatabaseReplaced, match="deleted while serving"):
        store.decide(2, "ann", "accept", [])
    made(str(db))  # a new file under the same name
    with pytest.raises(DatabaseReplaced, match="replaced while serving"):
        store.decide(3, "ann", "accept", [])


def test_only_leases_commit_without_waiting_for_the_disk(postgres):
    store = made(postgres, sentences(1))
    with store.database.writing() as session:
        assert session.scalar(text("SHOW synchronous_commit")) == "on"
    with store.database.writing(durable=False) as session:
        assert session.scalar(text("SHOW synchronous_commit")) == "off"
    store.close()
