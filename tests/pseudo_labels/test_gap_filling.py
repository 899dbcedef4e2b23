import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.pseudo_labels.gap_filling import GapFilling, fill_gaps
from nerd.spans import Span, iob2_to_spans, spans_to_iob2


def test_a_missed_name_is_added_and_the_tally_says_so():
    tally = GapFilling()
    teacher = ["O", "O", "O", "B-LOC"]
    predicted = ["B-PER", "O", "O", "B-LOC"]
    assert fill_gaps(teacher, predicted, [0.97, 1, 1, 0.99], 0.9, tally) == ["B-PER", "O", "O", "B-LOC"]
    assert tally.added == {"PER": 1} and tally.sentences == tally.sentences_changed == 1


def test_the_teacher_wins_a_conflict_and_unsure_predictions_stay_out():
    tally = GapFilling()
    teacher = ["B-ORG", "O", "O", "O"]
    predicted = ["B-LOC", "I-LOC", "B-PER", "O"]  # overlaps the teacher's ORG; PER below the threshold
    assert fill_gaps(teacher, predicted, [0.99, 0.99, 0.6, 1.0], 0.9, tally) == teacher
    assert tally.conflicting == 1 and tally.below_threshold == 1 and not tally.added
    assert tally.sentences_changed == 0


def test_lengths_that_differ_are_an_error():
    with pytest.raises(ValueError, match="one of each per word"):
        fill_gaps(["O"], ["O", "O"], [1.0, 1.0], 0.9)


def _tags(length: int):
    labels = st.sampled_from(["PER", "LOC", "ORG"])
    starts = st.lists(st.tuples(st.integers(0, max(length - 1, 0)), st.integers(1, 3), labels), max_size=4)

    def build(items):
        taken = [False] * length
        spans = []
        for start, width, label in items:
            end = min(start + width, length)
            if length and not any(taken[start:end]):
                taken[start:end] = [True] * (end - start)
                spans.append(Span(start, end, label))
        return spans_to_iob2(sorted(spans), length)

    return starts.map(build)


@given(
    st.integers(0, 12).flatmap(
        lambda n: st.tuples(_tags(n), _tags(n), st.lists(st.floats(0, 1), min_size=n, max_size=n))
    )
)
def test_filling_keeps_the_teacher_and_adds_only_predicted_entities(case):
    teacher, predicted, confidence = case
    filled = fill_gaps(teacher, predicted, confidence, 0.5)
    spans = set(iob2_to_spans(filled))
    assert set(iob2_to_spans(teacher)) <= spans
    assert spans - set(iob2_to_spans(teacher)) <= set(iob2_to_spans(predicted))
