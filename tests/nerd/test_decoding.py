"""Constrained Viterbi against arg-max, and against every valid path by brute force."""

import itertools

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays

from nerd.decoding import decode, decode_indices, log_softmax
from nerd.spans import continues_nothing, iob2_to_spans
from nerd.tagging.encoding import Window
from nerd.word_scores import tag_windows

LABELS = ["O", "B-ORG", "I-ORG", "B-LOC", "I-LOC", "B-PER", "I-PER"]


def scores_for(rows):
    """Log-probabilities of per-word probability rows over LABELS."""
    return np.log(np.asarray(rows, dtype=np.float64))


def test_viterbi_keeps_a_name_whole_where_argmax_splits_it():
    # "United Nations": the first word leans ORG, the second leans (slightly) to I-LOC.
    united_nations = scores_for(
        [[0.01, 0.55, 0.01, 0.40, 0.01, 0.01, 0.01], [0.02, 0.01, 0.44, 0.01, 0.50, 0.01, 0.01]]
    )
    (argmax,) = decode([united_nations], LABELS, "argmax")
    (viterbi,) = decode([united_nations], LABELS, "viterbi")
    assert [(s.label, s.start, s.end) for s in iob2_to_spans(argmax)] == [("ORG", 0, 1), ("LOC", 1, 2)]
    assert [(s.label, s.start, s.end) for s in iob2_to_spans(viterbi)] == [("ORG", 0, 2)]


def test_no_sentence_opens_with_i():
    opening = scores_for([[0.1, 0.05, 0.6, 0.05, 0.1, 0.05, 0.05]])
    # I-ORG may not come first, and B-ORG (0.05) is less likely than O (0.1); arg-max repairs I- to B-.
    assert decode([opening], LABELS, "viterbi") == [["O"]]
    assert decode([opening], LABELS, "argmax") == [["B-ORG"]]


def test_empty_sentences_and_unknown_decodings():
    assert decode([np.zeros((0, len(LABELS)))], LABELS) == [[]]
    with pytest.raises(ValueError, match="unknown decoding 'beam'"):
        decode([np.zeros((1, len(LABELS)))], LABELS, "beam")  # type: ignore[arg-type]


def best_valid_path(scores):
    """Brute force: the highest-scoring valid IOB2 sequence."""
    best_score = -np.inf
    for path in itertools.product(range(len(LABELS)), repeat=len(scores)):
        tags = [LABELS[i] for i in path]
        if continues_nothing(tags) is not None:
            continue
        score = sum(scores[word, label] for word, label in enumerate(path))
        best_score = max(best_score, score)
    return best_score


word_scores = st.integers(1, 4).flatmap(
    lambda words: arrays(np.float64, (words, len(LABELS)), elements=st.floats(-8, 0, allow_nan=False))
)


@given(word_scores)
def test_viterbi_finds_the_best_valid_path(scores):
    (path,) = decode_indices([scores], LABELS, "viterbi")
    tags = [LABELS[i] for i in path]
    assert continues_nothing(tags) is None
    assert sum(scores[w, i] for w, i in enumerate(path)) == pytest.approx(best_valid_path(scores))


@given(word_scores)
def test_a_valid_argmax_sequence_is_kept_as_it_is(scores):
    (argmax,) = decode_indices([scores], LABELS, "argmax")
    if continues_nothing([LABELS[i] for i in argmax]) is None:
        (viterbi,) = decode_indices([scores], LABELS, "viterbi")
        assert viterbi.tolist() == argmax.tolist()


def test_tag_windows_decodes_each_sentence_over_its_windows():
    # A stand-in for the model: fixed logits per sub-token position, no network behind it.
    window = Window(sentence=0, first_word=0, input_ids=[101, 7, 8, 102], word_starts=[1, 2], owned=(0, 2))
    logits = np.log(
        np.array(
            [
                [
                    [0.9] + [0.1 / 6] * 6,
                    [0.01, 0.55, 0.01, 0.40, 0.01, 0.01, 0.01],
                    [0.02, 0.01, 0.44, 0.01, 0.50, 0.01, 0.01],
                    [0.9] + [0.1 / 6] * 6,
                ]
            ],
            dtype=np.float32,
        )
    )
    run = lambda windows: logits  # noqa: E731
    assert tag_windows([window], [2], LABELS, run, 8, decoding="viterbi") == [["B-ORG", "I-ORG"]]
    assert tag_windows([window], [2], LABELS, run, 8, decoding="argmax") == [["B-ORG", "B-LOC"]]
    assert np.allclose(np.exp(log_softmax(logits)).sum(axis=-1), 1.0)
