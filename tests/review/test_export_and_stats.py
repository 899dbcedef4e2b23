"""What leaves a review: accepted sentences only, as CoNLL and as training records; and the figures."""

import json

from nerd.conll import read_conll
from nerd.records import read_records
from nerd.review.exporting import export_reviewed
from nerd.review.stats import cohen_kappa, review_stats
from nerd.review.store import NewItem, ReviewStore

LABELS = ["PER", "ORG", "LOC", "MISC"]
TOKENS = [("Ann", "met", "Bob", "."), ("Acme", "fell", "."), ("Oslo", "is", "cold", "."), ("Hi", "Cid", ".")]


def reviewed(db):
    store = ReviewStore(db)
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
    store.decide(4, "ann", "undo")  # undone: item 4 is undecided again
    return store


def test_only_agreed_accepted_sentences_are_exported_with_their_provenance(db, tmp_path):
    store = reviewed(db)
    counts = export_reviewed(store, conll=tmp_path / "gold.conll", jsonl=tmp_path / "gold.jsonl")
    assert (counts.exported, counts.rejected, counts.conflicts, counts.undecided) == (1, 1, 1, 1)
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
