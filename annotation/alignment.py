"""Aligning a teacher's entity strings to sentence tokens.

Each string is looked for on a ladder of rungs, stopping at the first that finds it: ``exact`` token
match, ``case_insensitive``, then ``normalised`` (quotes and dashes unified, punctuation and spacing
ignored, a trailing possessive dropped). Every occurrence is labelled. Where found spans overlap, the
longest wins; a name inside a longer entity is reported as ``nested`` and the outer span kept. A string
found on no rung is ``hallucinated``, unless it is part of a single token (``inside_token``: "Boston"
in "Boston-based", which CoNLL tags as a whole).

>>> tokens = "The New York Times said New York 's mayor".split()
>>> result = align_entities(tokens, [("ORG", "New York Times"), ("LOC", "New York"), ("PER", "Bloomberg")])
>>> result.spans
[Span(start=1, end=4, label='ORG'), Span(start=5, end=7, label='LOC')]
>>> [(event.kind.value, event.text) for event in result.events]
[('hallucinated', 'Bloomberg'), ('nested', 'New York')]
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass, field
from enum import StrEnum

from nerd.spans import Span
from nerd.tokenization import tokenize_words


class Rung(StrEnum):
    """How an entity string was found in the tokens."""

    EXACT = "exact"
    CASE_INSENSITIVE = "case_insensitive"
    NORMALISED = "normalised"


class EventKind(StrEnum):
    """Things about an entity string that did not fit the sentence; each one is reported."""

    HALLUCINATED = "hallucinated"  # found nowhere: dropped
    INSIDE_TOKEN = "inside_token"  # only part of a token ("Boston" in "Boston-based"): dropped
    NESTED = "nested"  # inside a longer entity: the outer one kept
    OVERLAPPING = "overlapping"  # crosses a longer entity: dropped
    CONFLICTING_TYPE = "conflicting_type"  # same tokens listed under another type: the first kept
    EMPTY = "empty"  # a string with no word in it
    UNKNOWN_LABEL = "unknown_label"  # listed under a type that maps to no label: dropped


@dataclass(frozen=True)
class AlignmentEvent:
    """One entity string (or one occurrence of it) that did not make it into the tags as given."""

    kind: EventKind
    label: str
    text: str
    span: Span | None = None
    kept: Span | None = None


@dataclass
class Alignment:
    """The spans an answer yields for a sentence, how each string was found, and what did not fit."""

    spans: list[Span]
    rungs: dict[Rung, int] = field(default_factory=dict)
    events: list[AlignmentEvent] = field(default_factory=list)

    @property
    def hallucinated(self) -> int:
        """Number of entity strings found nowhere in the sentence."""
        return sum(1 for event in self.events if event.kind is EventKind.HALLUCINATED)


_QUOTES = str.maketrans({"‘": "'", "’": "'", "‚": "'", "`": "'", "´": "'", "“": '"', "”": '"', "„": '"'})
_POSSESSIVES = {"'s", "'", "s'"}
_NOT_WORD = re.compile(r"[\W_]+")


def _normalise(token: str) -> str:
    """Case-folded word characters only: quotes, dashes, dots and spacing do not count."""
    folded = unicodedata.normalize("NFKC", token).translate(_QUOTES).casefold()
    return _NOT_WORD.sub("", folded)


def _strip_possessive(words: list[str]) -> list[str]:
    if len(words) > 1 and words[-1].translate(_QUOTES).casefold() in _POSSESSIVES:
        return words[:-1]
    return words


def _find_sequence(haystack: Sequence[str], needle: Sequence[str]) -> list[tuple[int, int]]:
    size = len(needle)
    first = needle[0]
    return [
        (start, start + size)
        for start in range(len(haystack) - size + 1)
        if haystack[start] == first and list(haystack[start : start + size]) == list(needle)
    ]


def _find_normalised(normalised: Sequence[str], key: str) -> list[tuple[int, int]]:
    """Token ranges whose normalised forms, concatenated, spell ``key``; edges must be words."""
    found: list[tuple[int, int]] = []
    for start, piece in enumerate(normalised):
        if not piece or not key.startswith(piece):
            continue
        joined = piece
        end = start + 1
        while len(joined) < len(key) and end < len(normalised):
            joined += normalised[end]
            end += 1
        if joined == key and normalised[end - 1]:
            found.append((start, end))
    return found


class _Sentence:
    """Token views computed once per sentence, shared by all its entity strings."""

    def __init__(self, tokens: Sequence[str]) -> None:
        self.tokens = list(tokens)
        self.folded = [token.casefold() for token in tokens]
        self.normalised = [_normalise(token) for token in tokens]


def find_occurrences(tokens: Sequence[str], text: str) -> tuple[Rung | None, list[tuple[int, int]]]:
    """The first rung on which ``text`` occurs in ``tokens`` and every (start, end) found there."""
    return _find(_Sentence(tokens), text)


def _find(sentence: _Sentence, text: str) -> tuple[Rung | None, list[tuple[int, int]]]:
    words = tokenize_words(text)
    if not words:
        return None, []
    stripped = _strip_possessive(words)
    if stripped == words:
        exact = _find_sequence(sentence.tokens, words)
        if exact:
            return Rung.EXACT, exact
        folded = _find_sequence(sentence.folded, [word.casefold() for word in words])
        if folded:
            return Rung.CASE_INSENSITIVE, folded
    key = "".join(_normalise(word) for word in stripped)
    if not key:
        return None, []
    found = _find_normalised(sentence.normalised, key)
    return (Rung.NORMALISED, found) if found else (None, [])


def _why_missing(sentence: _Sentence, text: str) -> EventKind:
    key = _normalise(text)
    if not key:
        return EventKind.EMPTY
    if any(key in token for token in sentence.normalised):
        return EventKind.INSIDE_TOKEN
    return EventKind.HALLUCINATED


def align_entities(tokens: Sequence[str], entities: Sequence[tuple[str, str]]) -> Alignment:
    """Spans for ``(label, string)`` pairs over ``tokens``, longest first, with every misfit reported.

    Labels are taken as given: map synonyms before calling.
    """
    sentence = _Sentence(tokens)
    rungs: dict[Rung, int] = {}
    events: list[AlignmentEvent] = []
    candidates: list[tuple[int, int, int, str, str]] = []  # (-width, start, order, label, text)
    seen: set[tuple[str, str]] = set()
    for order, (label, text) in enumerate(entities):
        if (label, text) in seen:
            continue
        seen.add((label, text))
        rung, ranges = _find(sentence, text)
        if rung is None:
            events.append(AlignmentEvent(_why_missing(sentence, text), label, text))
            continue
        rungs[rung] = rungs.get(rung, 0) + 1
        candidates.extend((start - end, start, order, label, text) for start, end in ranges)

    taken: list[Span] = []
    owner = [-1] * len(sentence.tokens)
    for negative_width, start, _order, label, text in sorted(candidates):
        span = Span(start, start - negative_width, label)
        holders = {owner[position] for position in range(span.start, span.end)} - {-1}
        if not holders:
            for position in range(span.start, span.end):
                owner[position] = len(taken)
            taken.append(span)
            continue
        kept = taken[min(holders)]
        if (kept.start, kept.end) == (span.start, span.end):
            if kept.label != label:
                events.append(AlignmentEvent(EventKind.CONFLICTING_TYPE, label, text, span, kept))
        elif len(holders) == 1 and kept.start <= span.start and span.end <= kept.end:
            events.append(AlignmentEvent(EventKind.NESTED, label, text, span, kept))
        else:
            events.append(AlignmentEvent(EventKind.OVERLAPPING, label, text, span, kept))
    return Alignment(sorted(taken), rungs, events)
