"""The student's mistakes on labelled data, in the form a teacher can read: sentence, gold, prediction.

A sentence is a mistake when any of its entities is wrong (see :mod:`nerd.evaluation.error_analysis` for
the kinds); a sentence the student got entirely right, with at least one entity, is a correct
example. The teacher sees both, as EvoKD shows its LLM the student's wrong and right answers.
"""

from __future__ import annotations

import random
from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from nerd.conll import Sentence
from nerd.evaluation.error_analysis import SentenceErrors
from nerd.spans import Span, entity_strings


@dataclass(frozen=True)
class Example:
    """A labelled sentence as the teacher reads it, with what the student predicted."""

    index: int  # in the data the student was run on
    text: str  # the tokens joined by spaces, as prompts and imports write sentences
    gold: dict[str, list[str]]
    predicted: dict[str, list[str]]
    errors: tuple[dict[str, Any], ...] = ()

    def to_json(self) -> dict[str, Any]:
        return {
            "index": self.index,
            "text": self.text,
            "gold": self.gold,
            "predicted": self.predicted,
            "errors": list(self.errors),
        }


def _entity(tokens: Sequence[str], span: Span | None) -> dict[str, str] | None:
    if span is None:
        return None
    return {"text": " ".join(tokens[span.start : span.end]), "label": span.label}


def describe_error(error: dict[str, Any]) -> str:
    """One error in words, for a prompt.

    >>> describe_error({"kind": "wrong_type", "gold": {"text": "Paris", "label": "LOC"},
    ...                 "predicted": {"text": "Paris", "label": "ORG"}})
    'wrong type: "Paris" is LOC, the student said ORG'
    """
    gold, predicted, kind = error["gold"], error["predicted"], error["kind"]
    if kind == "missed":
        return f'missed: "{gold["text"]}" ({gold["label"]})'
    if kind == "spurious":
        return f'spurious: "{predicted["text"]}" is no entity, the student said {predicted["label"]}'
    if kind == "wrong_type":
        return f'wrong type: "{gold["text"]}" is {gold["label"]}, the student said {predicted["label"]}'
    return (
        f"wrong {'boundary' if kind == 'wrong_boundary' else 'boundary and type'}: "
        f'"{gold["text"]}" ({gold["label"]}), the student marked "{predicted["text"]}" ({predicted["label"]})'
    )


def mistakes_of(
    sentences: Sequence[Sentence], predicted: Sequence[Sequence[str]], errors: Sequence[SentenceErrors]
) -> list[Example]:
    """Every sentence with an error, in data order."""
    result = []
    for found in errors:
        tokens = sentences[found.index].tokens
        result.append(
            Example(
                index=found.index,
                text=" ".join(tokens),
                gold=entity_strings(tokens, sentences[found.index].tags),
                predicted=entity_strings(tokens, predicted[found.index]),
                errors=tuple(
                    {"kind": kind, "gold": _entity(tokens, gold), "predicted": _entity(tokens, guess)}
                    for kind, gold, guess in found.errors
                ),
            )
        )
    return result


def correct_sample(
    sentences: Sequence[Sentence], errors: Sequence[SentenceErrors], size: int, seed: int
) -> list[Example]:
    """Up to ``size`` sentences the student got right that hold at least one entity, chosen at random."""
    wrong = {found.index for found in errors}
    right = [
        index
        for index, sentence in enumerate(sentences)
        if index not in wrong and any(tag != "O" for tag in sentence.tags)
    ]
    chosen = sorted(random.Random(seed).sample(right, min(size, len(right))))
    return [
        Example(
            index=index,
            text=" ".join(sentences[index].tokens),
            gold=entity_strings(sentences[index].tokens, sentences[index].tags),
            predicted=entity_strings(sentences[index].tokens, sentences[index].tags),
        )
        for index in chosen
    ]


def error_summary(mistakes: Sequence[Example]) -> dict[str, Any]:
    """Counts by kind, and by (gold type, kind) so a weak type shows: ``{"ORG": {"missed": 40}}``."""
    kinds: Counter[str] = Counter()
    by_type: dict[str, Counter[str]] = {}
    for example in mistakes:
        for error in example.errors:
            kinds[error["kind"]] += 1
            side = error["gold"] or error["predicted"]
            by_type.setdefault(side["label"], Counter())[error["kind"]] += 1
    return {
        "sentences": len(mistakes),
        "by_kind": dict(kinds.most_common()),
        "by_type": {name: dict(counts.most_common()) for name, counts in sorted(by_type.items())},
    }
