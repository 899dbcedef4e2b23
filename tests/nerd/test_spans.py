import itertools

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.errors import TagSchemeError
from nerd.spans import Span, detect_scheme, iob1_to_iob2, iob2_to_spans, parse_tag, spans_to_iob2


def test_iob2_to_spans_reads_adjacent_entities_apart():
    tags = ["B-PER", "I-PER", "B-PER", "O", "B-LOC", "B-ORG", "I-ORG"]
    assert iob2_to_spans(tags) == [Span(0, 2, "PER"), Span(2, 3, "PER"), Span(4, 5, "LOC"), Span(5, 7, "ORG")]


def test_iob2_to_spans_rejects_an_i_tag_that_continues_nothing():
    with pytest.raises(TagSchemeError) as error:
        iob2_to_spans(["O", "I-LOC"])
    assert error.value.position == 1


def test_iob2_to_spans_rejects_a_type_change_inside_an_entity():
    with pytest.raises(TagSchemeError):
        iob2_to_spans(["B-PER", "I-LOC"])


@pytest.mark.parametrize("tag", ["B-", "X-LOC", "b-LOC", "I", "BLOC", "B-LOC X", ""])
def test_parse_tag_rejects_malformed_tags(tag):
    with pytest.raises(ValueError):
        parse_tag(tag)


def test_iob1_to_iob2_opens_entities_that_start_with_i():
    assert iob1_to_iob2(["I-PER", "I-PER", "B-PER", "O", "I-LOC"]) == [
        "B-PER",
        "I-PER",
        "B-PER",
        "O",
        "B-LOC",
    ]


def test_detect_scheme():
    assert detect_scheme([["B-PER", "I-PER"], ["O"]]) == "iob2"
    assert detect_scheme([["O"], ["I-PER"]]) == "iob1"


def test_spans_to_iob2_refuses_overlaps():
    with pytest.raises(ValueError):
        spans_to_iob2([Span(0, 2, "PER"), Span(1, 3, "LOC")], 4)


@st.composite
def spans_and_length(draw):
    length = draw(st.integers(0, 30))
    cuts = sorted(draw(st.sets(st.integers(0, length), max_size=12)))
    spans = []
    for start, end in itertools.pairwise(cuts):
        if draw(st.booleans()):
            spans.append(Span(start, end, draw(st.sampled_from(["PER", "LOC", "ORG", "MISC"]))))
    return spans, length


@given(spans_and_length())
def test_spans_round_trip_through_iob2(case):
    spans, length = case
    assert iob2_to_spans(spans_to_iob2(spans, length)) == spans


@given(st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), max_size=20))
def test_iob1_conversion_always_gives_valid_iob2(tags):
    iob2_to_spans(iob1_to_iob2(tags))
