from hypothesis import given
from hypothesis import strategies as st

from nerd.annotation.alignment import EventKind, Rung, align_entities, find_occurrences
from nerd.spans import Span, spans_to_iob2

TOKENS = 'The New York Times said " NEW YORK " and U.S officials in Germany \'s Bonn agreed .'.split()


def test_the_ladder_stops_at_the_first_rung_that_finds_the_string():
    assert find_occurrences(TOKENS, "The New York Times") == (Rung.EXACT, [(0, 4)])
    assert find_occurrences(TOKENS, "new york times") == (Rung.CASE_INSENSITIVE, [(1, 4)])
    assert find_occurrences(TOKENS, "U.S.") == (Rung.NORMALISED, [(10, 11)])
    assert find_occurrences(TOKENS, "Germany's") == (Rung.NORMALISED, [(13, 14)])
    assert find_occurrences(TOKENS, "“Bonn”") == (Rung.NORMALISED, [(15, 16)])
    assert find_occurrences(TOKENS, "Paris") == (None, [])


def test_the_longest_span_wins_and_the_nested_name_is_reported():
    result = align_entities(TOKENS, [("ORG", "New York Times"), ("LOC", "New York")])
    # "NEW YORK" is not labelled: an exact hit stops the ladder, so "us" is never tagged for "US".
    assert result.spans == [Span(1, 4, "ORG")]
    assert [(e.kind, e.span) for e in result.events] == [(EventKind.NESTED, Span(1, 3, "LOC"))]


def test_every_occurrence_is_labelled():
    tokens = "Paris beat Lyon and Paris won".split()
    assert align_entities(tokens, [("ORG", "Paris")]).spans == [Span(0, 1, "ORG"), Span(4, 5, "ORG")]


def test_case_changed_strings_are_found_case_insensitively():
    result = align_entities(TOKENS, [("LOC", "new york")])
    assert result.rungs == {Rung.CASE_INSENSITIVE: 1}
    assert result.spans == [Span(1, 3, "LOC"), Span(6, 8, "LOC")]


def test_hallucinations_and_partial_tokens_are_reported_and_dropped():
    tokens = "Talks in Serb-held Doboj".split()
    result = align_entities(tokens, [("PER", "John Smith"), ("MISC", "Serb"), ("LOC", "Doboj")])
    assert result.spans == [Span(3, 4, "LOC")]
    assert [(e.kind, e.text) for e in result.events] == [
        (EventKind.HALLUCINATED, "John Smith"),
        (EventKind.INSIDE_TOKEN, "Serb"),
    ]


def test_same_tokens_under_two_types_keep_the_first():
    result = align_entities(["Jordan", "won"], [("PER", "Jordan"), ("LOC", "Jordan")])
    assert result.spans == [Span(0, 1, "PER")]
    assert result.events[0].kind is EventKind.CONFLICTING_TYPE


def test_crossing_spans_keep_the_longer():
    tokens = "A B C D".split()
    result = align_entities(tokens, [("ORG", "A B C"), ("LOC", "C D")])
    assert result.spans == [Span(0, 3, "ORG")]
    assert result.events[0].kind is EventKind.OVERLAPPING


def test_punctuation_only_strings_are_empty():
    assert align_entities(["a"], [("PER", "--")]).events[0].kind is EventKind.EMPTY


WORDS = st.sampled_from(["Paris", "paris", "New", "York", "'s", ",", ".", "U.S.", "Ann", "the"])


@given(
    st.lists(WORDS, min_size=1, max_size=15),
    st.lists(st.tuples(st.sampled_from(["PER", "LOC"]), st.text(max_size=20)), max_size=6),
)
def test_any_answer_gives_valid_non_overlapping_spans(tokens, entities):
    result = align_entities(tokens, entities)
    spans_to_iob2(result.spans, len(tokens))  # raises on overlap or out-of-range spans


@given(st.lists(WORDS, min_size=1, max_size=15), st.data())
def test_a_string_cut_from_the_sentence_is_always_found(tokens, data):
    start = data.draw(st.integers(0, len(tokens) - 1))
    end = data.draw(st.integers(start + 1, len(tokens)))
    piece = tokens[start:end]

    def is_word(token):
        return token[0].isalnum()

    # An entity starts and ends with a word (not punctuation, not a clitic such as 's).
    if is_word(piece[0]) and is_word(piece[-1]):
        rung, found = find_occurrences(tokens, " ".join(piece))
        assert rung is not None and (start, end) in found
