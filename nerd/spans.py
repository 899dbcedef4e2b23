"""Entity spans over tokens and their conversion from and to IOB tags.

Spans are half-open token ranges: ``Span(0, 2, "PER")`` covers tokens 0 and 1.

>>> iob2_to_spans(["B-PER", "I-PER", "O", "B-LOC"])
[Span(start=0, end=2, label='PER'), Span(start=3, end=4, label='LOC')]
>>> spans_to_iob2([Span(1, 3, "ORG")], 4)
['O', 'B-ORG', 'I-ORG', 'O']
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from typing import Literal, NamedTuple

from nerd.errors import TagSchemeError

OUTSIDE = "O"
# A type is any run of word characters, dots or dashes: "LOC", "WORK_OF_ART".
_TYPE_NAME = r"[A-Za-z0-9_.][A-Za-z0-9_.\-]*"
_TAG = re.compile(rf"^(?P<prefix>[BI])-(?P<label>{_TYPE_NAME})$")

TagScheme = Literal["iob1", "iob2"]


def is_type_name(name: str) -> bool:
    """Whether ``name`` can be an entity type in IOB tags.

    >>> is_type_name("WORK_OF_ART"), is_type_name("B-X Y")
    (True, False)
    """
    return re.fullmatch(_TYPE_NAME, name) is not None


class Span(NamedTuple):
    """An entity: tokens ``start`` up to (not including) ``end``, of type ``label``."""

    start: int
    end: int
    label: str

    @property
    def width(self) -> int:
        """Number of tokens covered."""
        return self.end - self.start


def parse_tag(tag: str) -> tuple[str, str | None]:
    """Split a tag into prefix and type: ``"B-LOC"`` -> ``("B", "LOC")``, ``"O"`` -> ``("O", None)``.

    Raises:
        ValueError: the tag is neither ``O`` nor ``B-``/``I-`` followed by a type.
    """
    if tag == OUTSIDE:
        return OUTSIDE, None
    match = _TAG.match(tag)
    if match is None:
        raise ValueError(f"malformed tag {tag!r}: expected 'O', 'B-TYPE' or 'I-TYPE'")
    return match["prefix"], match["label"]


def continues_nothing(tags: Sequence[str]) -> int | None:
    """Position of the first ``I-`` tag that does not continue an entity of its type, or None."""
    previous: str | None = None
    for position, tag in enumerate(tags):
        prefix, label = parse_tag(tag)
        if prefix == "I" and previous != label:
            return position
        previous = label
    return None


def iob1_to_iob2(tags: Sequence[str]) -> list[str]:
    """Rewrite IOB1 tags (``I-`` opens an entity, ``B-`` only splits neighbours) as IOB2."""
    converted: list[str] = []
    previous: str | None = None
    for tag in tags:
        prefix, label = parse_tag(tag)
        if prefix == "I" and previous != label:
            converted.append(f"B-{label}")
        else:
            converted.append(tag)
        previous = label
    return converted


def repair_iob2(tags: Sequence[str]) -> list[str]:
    """Valid IOB2 from predicted or relabelled tags: an ``I-X`` that continues nothing opens an entity.

    The rule is IOB1's (``I-`` after something else starts an entity), so it is the same rewrite.

    >>> repair_iob2(["I-PER", "I-PER", "I-LOC", "O", "I-ORG"])
    ['B-PER', 'I-PER', 'B-LOC', 'O', 'B-ORG']
    """
    return iob1_to_iob2(tags)


def detect_scheme(sentences: Iterable[Sequence[str]]) -> TagScheme:
    """IOB1 when any ``I-`` tag opens an entity; otherwise the tags already read as IOB2."""
    for tags in sentences:
        if continues_nothing(tags) is not None:
            return "iob1"
    return "iob2"


def iob2_to_spans(tags: Sequence[str]) -> list[Span]:
    """Entities of an IOB2 tag sequence.

    Raises:
        TagSchemeError: a malformed tag, or an ``I-`` tag that continues nothing.
    """
    spans: list[Span] = []
    start: int | None = None
    current: str | None = None
    for position, tag in enumerate(tags):
        try:
            prefix, label = parse_tag(tag)
        except ValueError as error:
            raise TagSchemeError(str(error), position=position) from None
        if prefix == "I" and label != current:
            raise TagSchemeError(
                f"tag {tag!r} at token {position} continues no {label} entity (not IOB2)",
                position=position,
            )
        if prefix != "I" and current is not None and start is not None:
            spans.append(Span(start, position, current))
            start, current = None, None
        if prefix == "B":
            start, current = position, label
    if current is not None and start is not None:
        spans.append(Span(start, len(tags), current))
    return spans


def spans_to_iob2(spans: Iterable[Span], length: int) -> list[str]:
    """IOB2 tags for ``length`` tokens from non-overlapping spans.

    Raises:
        ValueError: a span is out of range, empty, or overlaps another.
    """
    tags = [OUTSIDE] * length
    for span in sorted(spans):
        if not 0 <= span.start < span.end <= length:
            raise ValueError(f"span {span} does not fit {length} tokens")
        if any(tag != OUTSIDE for tag in tags[span.start : span.end]):
            raise ValueError(f"span {span} overlaps another span")
        tags[span.start] = f"B-{span.label}"
        for position in range(span.start + 1, span.end):
            tags[position] = f"I-{span.label}"
    return tags


def entity_strings(tokens: Sequence[str], tags: Sequence[str]) -> dict[str, list[str]]:
    """``{type: [entity strings]}`` of a tagged sentence (the form teachers answer in), in sentence
    order, each string once.

    >>> entity_strings(["Acme", "hired", "Jo", "Lee"], ["B-ORG", "O", "B-PER", "I-PER"])
    {'ORG': ['Acme'], 'PER': ['Jo Lee']}
    """
    result: dict[str, list[str]] = {}
    for span in iob2_to_spans(tags):
        text = " ".join(tokens[span.start : span.end])
        strings = result.setdefault(span.label, [])
        if text not in strings:
            strings.append(text)
    return result


def labels_of(tags: Iterable[str]) -> set[str]:
    """Entity types that occur in a tag sequence."""
    found: set[str] = set()
    for tag in tags:
        label = parse_tag(tag)[1]
        if label is not None:
            found.add(label)
    return found


def map_types(tags: Sequence[str], mapping: dict[str, str]) -> list[str]:
    """IOB2 tags with entity types renamed by ``mapping``; a type mapped to ``O`` is dropped.

    Merging or dropping a type can leave an I- that continues nothing; the result is repaired.

    >>> map_types(["B-GPE", "I-GPE", "B-DATE", "I-DATE", "B-PER"], {"GPE": "LOC", "DATE": "O"})
    ['B-LOC', 'I-LOC', 'O', 'O', 'B-PER']
    """
    mapped: list[str] = []
    for tag in tags:
        if tag == "O":
            mapped.append(tag)
            continue
        target = mapping.get(tag[2:], tag[2:])
        mapped.append("O" if target == "O" else f"{tag[:2]}{target}")
    return repair_iob2(mapped)
