"""Sentences as model inputs: sub-token ids, labels on each word's first sub-token, windows for long ones.

A sentence whose sub-tokens do not fit ``max_length`` is cut into consecutive windows of whole words,
so every word is read and labelled exactly once; nothing is truncated away. A single word longer than
a window keeps its first sub-tokens (its label sits on the first one anyway).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace
from typing import Any

from nerd.errors import LabelMapError
from nerd.training.label_space import LabelSpace
from nerd.training.sources import Example
from nerd.windows import window_bounds
from nerd.word_shapes import subtoken_shapes, word_shapes

IGNORED = -100  # torch's CrossEntropyLoss ignore_index


@dataclass(frozen=True)
class Feature:
    """One window of one sentence, ready for the encoder."""

    input_ids: list[int]
    labels: list[int]  # IGNORED on special tokens and (by default) on non-first sub-tokens
    sentence: int  # index of the sentence in its source (as tagging.encoding.Window names it)
    first_word: int  # index in the sentence of the window's first word
    word_starts: list[int]  # position of each word's first sub-token in input_ids
    # Soft-labelled data: (position, label distribution in the run's label order) for each word start;
    # those positions carry no hard label.
    soft: tuple[tuple[int, tuple[float, ...]], ...] = ()
    shape_ids: list[int] | None = None  # each sub-token's word shape (nerd.word_shapes), when trained on

    def __len__(self) -> int:
        return len(self.input_ids)

    @property
    def owned(self) -> tuple[int, int]:
        """The words this window labels: all of its own (training windows do not overlap)."""
        return self.first_word, self.first_word + len(self.word_starts)


def _special_layout(tokenizer: Any) -> tuple[list[int], list[int]]:
    """The ids the tokenizer puts before and after one sequence ([CLS] / [SEP], <s> / </s>, ...)."""
    marker = -7
    template = tokenizer.build_inputs_with_special_tokens([marker])
    at = template.index(marker)
    return list(template[:at]), list(template[at + 1 :])


def encode(
    examples: Sequence[Example],
    tokenizer: Any,
    label_space: LabelSpace,
    max_length: int,
    *,
    label_all_subtokens: bool = False,
    shapes: bool = False,
) -> list[Feature]:
    """Features for ``examples``, in order (several per sentence when it needs windows); with ``shapes``
    each carries its sub-tokens' word shapes."""
    prefix, suffix = _special_layout(tokenizer)
    budget = max_length - len(prefix) - len(suffix)
    label2id = label_space.label2id
    unknown = tokenizer.unk_token_id if tokenizer.unk_token_id is not None else tokenizer.pad_token_id
    features: list[Feature] = []
    batch = tokenizer([list(e.tokens) for e in examples], is_split_into_words=True, add_special_tokens=False)
    for index, example in enumerate(examples):
        pieces: list[list[int]] = [[] for _ in example.tokens]
        for position, word in enumerate(batch.word_ids(index)):
            if word is not None:
                pieces[word].append(batch["input_ids"][index][position])
        # A word the tokenizer reads as nothing (a zero-width character) still needs a slot to be labelled.
        pieces = [word_pieces[:budget] or [unknown] for word_pieces in pieces]
        soft = _soft_rows(example, label_space)
        sentence_shapes = word_shapes(example.tokens) if shapes else None
        if soft is not None or not example.tags:
            tags = [IGNORED] * len(pieces)
        else:
            tags = [label2id[tag] for tag in example.tags]
        counts = [len(word_pieces) for word_pieces in pieces]
        for bounds in window_bounds(counts, budget):
            feature = _window(
                pieces,
                tags,
                bounds.start,
                bounds.end,
                index,
                prefix,
                suffix,
                label_all_subtokens,
                label_space,
            )
            if soft is not None:
                starts = zip(feature.word_starts, soft[bounds.start : bounds.end], strict=True)
                feature = replace(feature, soft=tuple(starts))
            if sentence_shapes is not None:
                shape_ids = subtoken_shapes(
                    sentence_shapes, counts, bounds.start, bounds.end, len(prefix), len(suffix)
                )
                feature = replace(feature, shape_ids=shape_ids)
            features.append(feature)
    return features


def _soft_rows(example: Example, label_space: LabelSpace) -> list[tuple[float, ...]] | None:
    """The example's word distributions over the run's labels (columns of one label added up), or None."""
    if example.soft is None or example.soft_labels is None:
        return None
    label2id = label_space.label2id
    unknown = sorted(set(example.soft_labels) - set(label2id))
    if unknown:
        raise LabelMapError(
            f"soft labels give probability to {', '.join(unknown)}, which this run does not learn "
            "(a --label-map can rename or drop them)"
        )
    columns = [label2id[label] for label in example.soft_labels]
    rows = []
    for row in example.soft:
        target = [0.0] * len(label_space.labels)
        for column, value in zip(columns, row, strict=True):
            target[column] += value
        rows.append(tuple(target))
    return rows


def _window(
    pieces: list[list[int]],
    tags: list[int],
    start: int,
    end: int,
    example: int,
    prefix: list[int],
    suffix: list[int],
    label_all_subtokens: bool,
    label_space: LabelSpace,
) -> Feature:
    input_ids = list(prefix)
    labels = [IGNORED] * len(prefix)
    word_starts: list[int] = []
    inside = label_space.label2id
    for word in range(start, end):
        word_starts.append(len(input_ids))
        input_ids.extend(pieces[word])
        tag = tags[word]
        rest = IGNORED
        if label_all_subtokens and tag != IGNORED:
            # The continuation of a B- sub-token is the same entity: label it I-.
            label = label_space.labels[tag]
            rest = inside["I-" + label[2:]] if label.startswith("B-") else tag
        labels.append(tag)
        labels.extend([rest] * (len(pieces[word]) - 1))
    input_ids.extend(suffix)
    labels.extend([IGNORED] * len(suffix))
    return Feature(input_ids, labels, example, start, word_starts)
