"""The stand-in teacher: what it reads from a request, and that its sentences label what they say."""

import random

from hypothesis import given, settings
from hypothesis import strategies as st

from nerd.evolution.evokd_prompt import user_message
from nerd.evolution.mistakes import Example
from nerd.evolution.stand_in_teacher import Target, generate, targets_of
from nerd.tokenization import tokenize_words

MISTAKE = Example(
    index=0,
    text="Ukrainian Academy of Sciences met in red-hot Kiev .",
    gold={"ORG": ["Ukrainian Academy of Sciences"], "LOC": ["Kiev"]},
    predicted={"MISC": ["Ukrainian"], "ORG": ["Academy of Sciences", "red-hot"], "PER": ["Kiev"]},
    errors=(
        {
            "kind": "wrong_boundary",
            "gold": {"text": "Ukrainian Academy of Sciences", "label": "ORG"},
            "predicted": {"text": "Academy of Sciences", "label": "ORG"},
        },
        {"kind": "spurious", "gold": None, "predicted": {"text": "Ukrainian", "label": "MISC"}},
        {"kind": "spurious", "gold": None, "predicted": {"text": "red-hot", "label": "ORG"}},
        {
            "kind": "wrong_type",
            "gold": {"text": "Kiev", "label": "LOC"},
            "predicted": {"text": "Kiev", "label": "PER"},
        },
    ),
)
# The prompt exactly as nerd evolve plan writes it: the stand-in reads what a real request holds.
PROMPT = user_message(
    round_number=1,
    f1=0.5,
    summary={"by_kind": {}},
    history=[],
    mistakes=[MISTAKE],
    correct=[],
    easy=4,
    hard=4,
)


def test_targets_are_the_gold_entities_behind_the_errors_and_lowercase_spurious_strings():
    assert targets_of(PROMPT) == [
        Target("Ukrainian Academy of Sciences", "ORG"),
        Target("red-hot", None),
        Target("Kiev", "LOC"),
    ]


def test_generated_sentences_hold_every_entity_they_list_and_the_target():
    gazetteer = {"PER": ["Ann Lee"], "ORG": ["Acme"], "LOC": ["Oslo"], "MISC": ["Danish"]}
    targets = targets_of(PROMPT)
    sentences = generate(targets, 4, 4, gazetteer, random.Random(0))
    assert [s["difficulty"] for s in sentences] == ["easy"] * 4 + ["hard"] * 4
    for sentence in sentences:
        tokens = tokenize_words(sentence["text"])
        text = " ".join(tokens)
        for strings in sentence["entities"].values():
            assert all(f" {string} " in f" {text} " for string in strings)
    assert any("Kiev" in s["entities"].get("LOC", []) for s in sentences)
    assert any("red-hot" in s["text"] and "red-hot" not in str(s["entities"]) for s in sentences)


_lines = st.sampled_from(
    [
        "   Correct: {",
        "   Errors: ",
        'missed: "',
        'spurious: "',
        '"PER": ["',
        "]",
        "}",
        "; ",
        "\n",
        "x",
        '"',
        "[1]",
    ]
)


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(_lines, st.text(max_size=10)), max_size=40).map("".join))
def test_any_prompt_text_gives_targets_never_a_crash(prompt):
    assert all(isinstance(target, Target) for target in targets_of(prompt))


def test_an_edited_request_with_odd_correct_lines_is_read_not_crashed_on():
    prompt = (
        '   Correct: {"PER": 1}\n   Correct: ["x"]\n   Correct: {"LOC": ["Oslo", 2]}\n'
        '   Errors: missed: "Oslo" (LOC)'
    )
    assert targets_of(prompt) == [Target("Oslo", "LOC")]
