"""Importing the sentences a teacher generated for nerd evolve: each one imported or rejected, never lost."""

import contextlib
import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerd.annotation.answers import AnswerError
from nerd.annotation.generated import analysis_of, extract_generated, read_generated, split_generation_answer
from nerd.annotation.importing import import_answers
from nerd.annotation.record_shapes import RecordProblem
from tests.factories import generation_answer, generation_request, output_line, request, write_lines

GOOD_EASY = {
    "text": "Acme Corp opened an office in Oslo .",
    "entities": {"ORG": ["Acme Corp"], "LOC": ["Oslo"]},
    "difficulty": "easy",
}
GOOD_HARD = {
    "text": "ACME WINS IN OSLO",
    "entities": {"ORG": ["ACME"], "LOC": ["OSLO"]},
    "difficulty": "hard",
}
INVENTED = {"text": "Acme rose .", "entities": {"ORG": ["Acme"], "PER": ["Jane Doe"]}, "difficulty": "easy"}
NOT_AN_OBJECT = "Acme rose ."
REPEATED = {
    "text": "Acme Corp opened an office in Oslo.",
    "entities": {"ORG": ["Acme Corp"]},
    "difficulty": "hard",
}


@pytest.fixture
def round_trip(tmp_path: Path) -> Path:
    root = tmp_path / "round"
    write_lines(
        root / "requests-00001.jsonl",
        [
            generation_request("g-1", easy=3, hard=2),
            generation_request("g-2"),
            generation_request("g-3"),
            request("a-1", "Bonn is calm ."),
        ],
    )
    write_lines(
        root / "output.jsonl",
        [
            output_line("g-1", generation_answer([GOOD_EASY, GOOD_HARD, INVENTED, NOT_AN_OBJECT, REPEATED])),
            output_line("g-2", "I cannot help with that."),
            output_line("a-1", "Result: {'LOC': ['Bonn']}"),
        ],
    )
    return root


def test_each_generated_sentence_is_imported_rejected_or_a_duplicate(round_trip: Path) -> None:
    result = import_answers([round_trip])

    imported = {record.id: record for record in result.records}
    assert set(imported) == {"g-1#1", "g-1#2", "a-1"}
    assert imported["g-1#1"].tokens == ["Acme", "Corp", "opened", "an", "office", "in", "Oslo", "."]
    assert imported["g-1#1"].tags == ["B-ORG", "I-ORG", "O", "O", "O", "O", "B-LOC", "O"]
    assert imported["g-1#2"].provenance.difficulty == "hard"
    assert imported["g-1#2"].provenance.shape == "generated"
    rejects = {reject["id"]: reject for reject in result.rejects}
    assert rejects["g-1#3"]["reason"] == "entity_not_in_text"
    assert "Jane Doe" in rejects["g-1#3"]["detail"]
    assert rejects["g-1#4"]["reason"] == "wrong_shape"
    assert rejects["g-2"]["reason"] == "no_generated_list"
    assert rejects["g-3"]["reason"] == "no_response"
    assert [(d["id"], d["kind"], d["kept"]["id"]) for d in result.duplicates] == [
        ("g-1#5", "repeated_sentence", "g-1#1")
    ]
    assert result.report["generated"] == {
        "requests": 3,
        "asked": 5 + 3 + 3,
        "requests_rejected": 2,
        "sentences": 4,
        "imported": 2,
        "rejected": 2,
        "imported_by_difficulty": {"easy": 1, "hard": 1},
    }
    # Unanswered or unusable requests go out again; a request whose answer was read does not.
    retried = [json.loads(line)["custom_id"] for line in result.retry_requests]
    assert sorted(retried) == ["g-2", "g-3"]
    report = result.report
    assert report["imported"] + report["rejected"] + report["duplicates"] == report["read"]


def test_a_redelivered_answer_line_is_a_duplicate_not_new_sentences(round_trip: Path) -> None:
    output = round_trip / "output.jsonl"
    first = output.read_text().splitlines()[0]
    output.write_text(output.read_text() + first + "\n")

    result = import_answers([round_trip])

    assert sorted(record.id for record in result.records) == ["a-1", "g-1#1", "g-1#2"]
    assert {d["kind"] for d in result.duplicates} == {"identical", "repeated_sentence"}


def test_the_last_result_list_wins_even_when_a_sentence_says_result() -> None:
    items = [{"text": 'The Result: [{"a": 1}] stood .', "entities": {}}, {"text": "x", "entities": {}}]
    analysis, found = split_generation_answer("Weak on ORG [1].\nResult: " + json.dumps(items))
    assert found == items
    assert analysis == "Weak on ORG [1]."


def test_a_python_literal_list_in_a_fence_is_read() -> None:
    answer = "Analysis: x\nResult:\n```python\n[{'text': 'a ] b', 'entities': {}}]\n```"
    assert extract_generated(answer) == [{"text": "a ] b", "entities": {}}]


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("no list at all", "no_generated_list"),
        ("Result: [{'text': 'cut", "malformed_list"),
        ("Result: [1, 2, 3]", "malformed_list"),
    ],
)
def test_answers_without_a_usable_list_are_rejected_with_a_reason(answer: str, reason: str) -> None:
    with pytest.raises(AnswerError) as raised:
        extract_generated(answer)
    assert raised.value.reason == reason


@pytest.mark.parametrize(
    "item",
    [
        {"entities": {}},
        {"text": "  ", "entities": {}},
        {"text": "x", "entities": ["ORG"]},
        {"text": "x", "entities": {}, "difficulty": "medium"},
        {"text": "x" * 3000, "entities": {}},
    ],
)
def test_malformed_generated_items_are_refused(item: object) -> None:
    with pytest.raises(RecordProblem):
        read_generated(item)


@settings(max_examples=200, deadline=None)
@given(st.text(max_size=400))
def test_any_answer_text_gives_a_list_or_an_answer_error(answer: str) -> None:
    with contextlib.suppress(AnswerError):
        assert isinstance(extract_generated(answer), list)
    assert isinstance(analysis_of(answer), str)


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.text(max_size=20),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12,
)


@settings(max_examples=200, deadline=None)
@given(_json)
def test_any_json_item_is_a_sentence_or_a_record_problem(item: object) -> None:
    try:
        sentence = read_generated(item)
    except RecordProblem:
        return
    assert sentence.text.strip()


@settings(max_examples=60, deadline=None)
@given(st.lists(_json, max_size=5))
def test_any_generated_list_imports_without_losing_an_item(
    tmp_path_factory: pytest.TempPathFactory, items: list
) -> None:
    root = tmp_path_factory.mktemp("gen")
    write_lines(root / "requests-00001.jsonl", [generation_request("g-1")])
    write_lines(root / "output.jsonl", [output_line("g-1", generation_answer(items))])

    result = import_answers([root])

    report = result.report
    assert report["imported"] + report["rejected"] + report["duplicates"] == report["read"]
    if any(isinstance(item, dict) for item in items):
        assert report["read"] == len(items)
