"""What leaves a review: accepted and settled sentences only, as CoNLL and as training records; the
figures; and an adjudicator settling conflicts."""

import json

import pytest

from nerd.conll import read_conll
from nerd.errors import ConfigError
from nerd.records import read_records
from nerd.review.errors import NotAConflict
from nerd.review.exporting import export_reviewed
from nerd.review.stats import cohen_kappa, review_stats
from nerd.review.store import NewItem, ReviewStore
from tests.review.factories import made, sentences, signed_in, with_users

LABELS = ["PER", "ORG", "LOC", "MISC"]
TOKENS = [("Ann", "met", "Bob", "."), ("Acme", "fell", "."), ("Oslo", "is", "cold", "."), ("Hi", "Cid", ".")]


def reviewed(db):
    store = ReviewStore(db, create=True)
    store.create(LABELS)
    store.add_items(
        [
            NewItem(
                TOKENS[0],
                "t.jsonl:1",
                teacher=[[0, 1, "PER"]],
                teacher_provenance={"id": "r1", "teacher": "gpt"},
            ),
            NewItem(TOKENS[1], "t.jsonl:2", teacher=[[0, 1, "LOC"]], teacher_provenance={"id": "r2"}),
            NewItem(TOKENS[2], "x.txt:3"),
            NewItem(TOKENS[3], "x.txt:4"),
        ],
        overlap_every=1,
    )
    store.decide(1, "ann", "accept", [[0, 1, "PER"], [2, 3, "PER"]])
    store.decide(1, "bob", "accept", [[0, 1, "PER"], [2, 3, "PER"]])
    store.decide(2, "ann", "accept", [[0, 1, "ORG"]])
    store.decide(2, "bob", "accept", [[0, 1, "LOC"]])  # a conflict: stays out
    store.decide(3, "ann", "reject")
    store.decide(4, "ann", "accept", [[1, 2, "PER"]])
    store.undo_last(4, "ann")  # undone: item 4 is undecided again
    return store


def test_only_agreed_accepted_sentences_are_exported_with_their_provenance(db, tmp_path):
    store = reviewed(db)
    counts = export_reviewed(store, conll=tmp_path / "gold.conll", jsonl=tmp_path / "gold.jsonl")
    assert (counts.exported, counts.rejected, counts.conflicts, counts.undecided, counts.settled) == (
        1,
        1,
        1,
        1,
        0,
    )
    corpus = read_conll(tmp_path / "gold.conll")
    assert [(list(s.tokens), list(s.tags)) for s in corpus.sentences] == [
        (list(TOKENS[0]), ["B-PER", "O", "B-PER", "O"])
    ]
    (record,) = list(read_records(tmp_path / "gold.jsonl"))
    assert record.id == "r1" and record.tags == ["B-PER", "O", "B-PER", "O"]
    assert record.provenance.reviewed is True and record.provenance.reviewers == ["ann", "bob"]
    assert record.provenance.teacher == "gpt" and record.provenance.file == "t.jsonl"


def test_stats_give_throughput_agreement_and_the_teacher_against_people(db):
    stats = review_stats(reviewed(db))
    assert stats["items"] == 4 and stats["exported"] == 1 and stats["conflicts"] == 1
    assert stats["reviewers"]["ann"]["accepted"] == 2 and stats["reviewers"]["ann"]["undone"] == 1
    agreement = stats["agreement"]
    # Items 1 (the same two entities) and 2 (ORG against LOC) were accepted by both.
    assert agreement["sentences"] == 2 and agreement["entity_f1"] == round(2 * 2 / 6, 4)
    assert agreement["token_kappa"] is not None and agreement["token_kappa"] < 1
    teacher = stats["teacher_vs_reviewed"]
    assert teacher["per_type"]["PER"]["recall"] == 0.5  # the teacher found Ann, not Bob
    json.dumps(stats)  # the figures are plain JSON


def test_kappa_is_one_for_identical_tags_and_undefined_when_one_label_is_all_there_is():
    assert cohen_kappa(["O", "B-PER", "O"], ["O", "B-PER", "O"]) == 1.0
    assert cohen_kappa(["O", "O"], ["O", "O"]) is None


def test_an_adjudicator_settles_a_conflict_and_the_export_takes_the_settlement(db, tmp_path):
    store = reviewed(db)
    with pytest.raises(NotAConflict):
        store.settle(1, "zoe", [[0, 1, "PER"]])  # its reviewers agree
    (conflict,) = store.conflicts()
    assert conflict.item.id == 2 and set(conflict.versions) == {"ann", "bob"}
    store.settle(2, "zoe", [[0, 1, "ORG"]])
    assert store.conflicts() == [] and [c.item.id for c in store.conflicts(settled=True)] == [2]
    counts = export_reviewed(store, conll=tmp_path / "gold.conll", jsonl=tmp_path / "gold.jsonl")
    assert (counts.exported, counts.settled, counts.conflicts) == (2, 1, 0)
    records = list(read_records(tmp_path / "gold.jsonl"))
    assert records[1].tags == ["B-ORG", "O", "O"] and records[1].provenance.reviewers == ["ann", "bob", "zoe"]
    stats = review_stats(store)
    assert (stats["conflicts"], stats["settled"]) == (0, 1)
    # A settlement can be taken back; the conflict is open again.
    settlement = store.conflicts(settled=True)[0].settlement
    store.undo(settlement.id, "zoe")
    assert [c.item.id for c in store.conflicts()] == [2]
    # Settling as rejected keeps the sentence out, counted as rejected.
    store.settle(2, "zoe", None)
    assert export_reviewed(store, conll=tmp_path / "g2.conll").rejected == 2


def test_settling_over_http_is_for_adjudicators(tmp_path):
    from nerd.review.users import Role

    store = with_users(made(str(tmp_path / "r.db"), sentences(2), overlap_every=1), "ann", "ben")
    with_users(store, "zoe", role=Role.adjudicator)
    store.decide(1, "ann", "accept", [[0, 1, "PER"]])
    store.decide(1, "ben", "reject")
    zoe = signed_in(store, "zoe")
    (conflict,) = zoe.get("/api/conflicts").json()["conflicts"]
    assert conflict["versions"]["ben"]["action"] == "reject"
    settled = zoe.post(
        "/api/items/1/settlement", json={"spans": [{"start": 0, "end": 1, "label": "PER"}], "client_id": "s1"}
    )
    assert settled.status_code == 201 and settled.json()["action"] == "settle"
    assert zoe.post("/api/items/1/settlement", json={"spans": None, "client_id": "s1"}).status_code == 200
    assert zoe.get("/api/conflicts").json()["conflicts"] == []
    assert zoe.get("/api/export").text == "Name0 B-PER\nvisited O\nOslo O\n. O\n\n"
    assert zoe.get("/api/stats").json()["settled"] == 1


def test_two_reviewers_who_agree_there_is_no_entity_agree(db):
    store = made(db, [NewItem(("just", "words"), "a:1"), NewItem(("more", "words"), "a:2")], overlap_every=1)
    for who in ("ann", "bob"):
        for item in (1, 2):
            store.decide(item, who, "accept", [])
    agreement = review_stats(store)["agreement"]
    assert agreement["sentences"] == 2 and agreement["entity_f1"] == 1.0


def test_one_file_named_for_both_exports_is_refused(db, tmp_path):
    store = reviewed(db)
    with pytest.raises(ConfigError, match="name the same file"):
        export_reviewed(store, conll=tmp_path / "g", jsonl=tmp_path / "g")
    assert not (tmp_path / "g").exists()
