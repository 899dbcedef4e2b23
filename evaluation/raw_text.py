"""What a REST caller gets: a CoNLL sentence sent as raw text and split by the service's own tokenizer.

``nerd evaluate`` scores a model on the data's tokens. A caller of ``/v1/entities`` sends text, which
:func:`nerd.tokenization.tokenize` splits its own way ("1." may become "1" and "."), so the model reads
other words than it was scored on. Here each sentence's tokens are joined by spaces, split as the
service splits them, tagged, and the entities compared with the gold ones as character spans: an
entity counts only when its start, end and type are exactly the gold one's.

Both sides are projected onto the pieces of text between every token boundary either tokenization
has, so that seqeval's strict IOB2 scoring (the scores every other report uses) compares exact spans.
"""

from __future__ import annotations

import bisect
import itertools
from collections.abc import Sequence
from typing import TypedDict

from nerd.evaluation.predictors import Predictor
from nerd.scoring import Scores, entity_scores
from nerd.spans import iob2_to_spans, map_types
from nerd.tokenization import tokenize

Offsets = tuple[int, int]


class RawTextReport(TypedDict):
    """The raw-text scores beside the count of sentences the service's tokenizer splits differently."""

    scores: Scores
    sentences: int
    resplit_sentences: int  # sentences whose service words are not the data's tokens
    model_seconds: float


def joined(tokens: Sequence[str]) -> tuple[str, list[Offsets]]:
    """The tokens joined by single spaces, and each token's offsets in that text.

    >>> joined(["U.S.", "troops", "."])
    ('U.S. troops .', [(0, 4), (5, 11), (12, 13)])
    """
    offsets, position = [], 0
    for token in tokens:
        offsets.append((position, position + len(token)))
        position += len(token) + 1
    return " ".join(tokens), offsets


def _pieces(text: str, *tokenizations: Sequence[Offsets]) -> list[Offsets]:
    """The non-blank stretches of ``text`` between every boundary any of the tokenizations has."""
    cuts = sorted({0, len(text)} | {at for offsets in tokenizations for pair in offsets for at in pair})
    return [(start, end) for start, end in itertools.pairwise(cuts) if text[start:end].strip()]


def _piece_tags(pieces: Sequence[Offsets], offsets: Sequence[Offsets], tags: Sequence[str]) -> list[str]:
    """IOB2 tags over the pieces for the entities that ``tags`` gives over the tokens at ``offsets``."""
    result = ["O"] * len(pieces)
    starts = [start for start, _ in pieces]
    for span in iob2_to_spans(list(tags)):
        begin, finish = offsets[span.start][0], offsets[span.end - 1][1]
        inside = range(bisect.bisect_left(starts, begin), bisect.bisect_left(starts, finish))
        for order, index in enumerate(inside):
            result[index] = f"{'I' if order else 'B'}-{span.label}"
    return result


def raw_text_evaluation(
    sentences: Sequence[Sequence[str]],
    gold: Sequence[Sequence[str]],
    predictor: Predictor,
    label_map: dict[str, str],
) -> RawTextReport:
    """Score ``predictor`` on the sentences as raw text; ``gold`` is already mapped by ``label_map``."""
    texts = [joined(tokens) for tokens in sentences]
    words = [tokenize(text) for text, _ in texts]
    predictions = predictor.run([[word.text for word in sentence] for sentence in words])
    true_tags, predicted_tags = [], []
    resplit = 0
    for (text, offsets), sentence_words, sentence_gold, predicted in zip(
        texts, words, gold, predictions.tags, strict=True
    ):
        word_offsets = [(word.start, word.end) for word in sentence_words]
        resplit += word_offsets != offsets
        pieces = _pieces(text, offsets, word_offsets)
        true_tags.append(_piece_tags(pieces, offsets, sentence_gold))
        predicted_tags.append(_piece_tags(pieces, word_offsets, map_types(predicted, label_map)))
    return {
        "scores": entity_scores(true_tags, predicted_tags, strict=True),
        "sentences": len(sentences),
        "resplit_sentences": resplit,
        "model_seconds": round(predictions.model_seconds, 3),
    }
