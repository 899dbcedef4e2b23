import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.annotation.answers import AnswerError, extract_entities

REASONING = "1. Context: news.\n2. Candidates: Paris, Le Monde.\n3. Types: Paris is LOC {not a dict}.\n"


@pytest.mark.parametrize(
    "tail",
    [
        "Result: {'LOC': ['Paris'], 'ORG': ['Le Monde']}",
        'Result: {"LOC": ["Paris"], "ORG": ["Le Monde"]}',
        'Final answer:\n{\n  "LOC": [\n    "Paris"\n  ],\n  "ORG": ["Le Monde"]\n}',
        "```python\n{'LOC': ['Paris'], 'ORG': ['Le Monde']}\n```",
        'Result:\n```json\n{"LOC": ["Paris"], "ORG": ["Le Monde"]}\n```\nHope this helps.',
        "{'LOC': ['Paris'], 'ORG': ['Le Monde']}",
    ],
)
def test_every_answer_shape_gives_the_final_dict(tail):
    assert extract_entities(REASONING + tail) == {"LOC": ["Paris"], "ORG": ["Le Monde"]}


def test_a_single_string_and_null_are_accepted():
    assert extract_entities("Result: {'PER': 'Ann', 'LOC': None}") == {"PER": ["Ann"], "LOC": []}


def test_the_last_dict_wins():
    assert extract_entities("Draft: {'PER': ['A']}\nResult: {'PER': ['B']}") == {"PER": ["B"]}


@pytest.mark.parametrize(
    ("answer", "reason"),
    [
        ("Result: {'ORG': [',", "malformed_dict"),
        ('Final answer:\n{\n  "LOC": [],\n  "MISC": [', "malformed_dict"),
        ("Result: {'PER': [__import__('os').system('true')]}", "malformed_dict"),
        ("Result: none found", "no_answer_dict"),
        ("Result: {'PER': [1, 2]}", "wrong_shape"),
        ("Result: {1: ['x']}", "wrong_shape"),
    ],
)
def test_bad_answers_are_rejected_with_a_reason(answer, reason):
    with pytest.raises(AnswerError) as error:
        extract_entities(answer)
    assert error.value.reason == reason


def test_a_huge_answer_is_refused_without_parsing():
    with pytest.raises(AnswerError):
        extract_entities("Result: {'PER': [" + "'x'," * 100_000 + "]}")


@given(st.text(max_size=300))
def test_any_text_gives_a_dict_or_a_reason(text):
    try:
        result = extract_entities(text)
    except AnswerError as error:
        assert error.reason in {"malformed_dict", "no_answer_dict", "wrong_shape"}
    else:
        assert all(isinstance(k, str) and all(isinstance(v, str) for v in vs) for k, vs in result.items())


@given(st.text(alphabet="{}[]'\":,ab \n\\", max_size=120))
def test_brace_soup_never_crashes(text):
    with contextlib.suppress(AnswerError):
        extract_entities("Result: " + text)


def test_a_junk_key_beside_known_types_is_reported_not_fatal():
    from nerd.labels import LabelSet

    labels = LabelSet.conll()
    answer = 'Result: {"PER": [], "LOC": ["Somerset"], "LOSER": [1, 29], "MISC": []}'
    entities = extract_entities(answer, labels)
    assert entities["LOC"] == ["Somerset"] and entities["LOSER"] == ["1", "29"]
    with pytest.raises(AnswerError, match="LOC"):
        extract_entities('Result: {"LOC": ["Somerset", 6]}', labels)  # a known type stays strict
    with pytest.raises(AnswerError, match="Smith"):
        extract_entities('Result: {"Smith": 1}', labels)  # nothing known: no sentence made of junk
    with pytest.raises(AnswerError):
        extract_entities(answer)  # without a label set, as before
