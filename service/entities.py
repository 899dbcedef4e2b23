"""Texts in, entities with character offsets out: the service's meaning of a request.

A text is split into words by nerd's own tokenizer (the one prompts and import use), so
``text[start:end]`` of every entity is exactly the words it spans, whatever the text holds: Unicode,
emoji, CRLF, tabs, leading or trailing spaces. Offsets count Unicode code points, as Python strings
do (JavaScript's ``Array.from(text)`` indexes the same way; ``text.slice`` counts UTF-16 units).

``score`` is the mean, over the entity's words, of the probability the model gave the label each word
got (a softmax over the labels, taken at the word's sub-tokens as the aggregation option says).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from nerd.spans import Span, iob2_to_spans
from nerd.tagging.reading import WordPredictions
from nerd.tokenization import Token


@dataclass(frozen=True)
class Entity:
    text: str
    label: str
    start: int
    end: int
    score: float


def entities_in_text(text: str, words: Sequence[Token], predicted: WordPredictions) -> list[Entity]:
    """Entities over a raw text: offsets into ``text`` itself."""
    entities = []
    for span in iob2_to_spans(predicted.tags):
        start, end = words[span.start].start, words[span.end - 1].end
        entities.append(Entity(text[start:end], span.label, start, end, _score(predicted, span)))
    return entities


def entities_in_tokens(tokens: Sequence[str], predicted: WordPredictions) -> list[Entity]:
    """Entities over pre-split tokens: ``start``/``end`` are token indices (end exclusive)."""
    entities = []
    for span in iob2_to_spans(predicted.tags):
        text = " ".join(tokens[span.start : span.end])
        entities.append(Entity(text, span.label, span.start, span.end, _score(predicted, span)))
    return entities


def _score(predicted: WordPredictions, span: Span) -> float:
    """The mean probability of the labels the entity's words got."""
    return round(sum(predicted.probabilities[span.start : span.end]) / span.width, 4)
