"""Word shapes: the capitalisation an uncased tokenizer throws away, given back to the model.

An uncased encoder (all-MiniLM-L6-v2, all-mpnet-base-v2) lower-cases every word before it is split
into sub-tokens, so "Elon Musk" and "elon musk" reach it as the same ids. A model trained with word
shapes (``nerd train --word-shapes``) reads one more input beside the sub-token ids: each sub-token
carries the shape of its word (lower, Title, UPPER, mixed, digits, other). The shapes ride in the
encoder's token-type embeddings (``token_type_ids``), which BERT-family encoders add to the word
embeddings anyway and which single-sentence tagging never used: the graph, ``save_pretrained`` and
optimum's ONNX export stay the library's own, and the extra rows start as copies of the pretrained one,
so a word of lower-case letters reads exactly as before training.

Training, export verification, ``nerd evaluate``, ``nerd label`` and the service all compute shapes
with :func:`word_shape`, from the words as the text has them.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from enum import IntEnum


class WordShape(IntEnum):
    """A word's capitalisation class; the value is its token-type id."""

    LOWER = 0  # also special tokens and padding: the pretrained token-type row, unchanged
    TITLE = 1
    UPPER = 2
    MIXED = 3
    DIGITS = 4  # no cased letter, at least one digit
    OTHER = 5  # no cased letter, no digit: punctuation, symbols, scripts without case


# The names as a checkpoint's config.json and a bundle's bundle.json record them, in id order.
SHAPE_NAMES: tuple[str, ...] = tuple(shape.name.lower() for shape in WordShape)

# Shapes that show a lower-case letter: a sentence with none of them is written in capitals.
_HAS_LOWER = frozenset({WordShape.LOWER, WordShape.TITLE, WordShape.MIXED})
# A lower-cased word keeps only what lower-casing does not remove.
_LOWERED = {shape: WordShape.LOWER for shape in (WordShape.TITLE, WordShape.UPPER, WordShape.MIXED)}


def word_shape(word: str) -> WordShape:
    """The shape of one word, from its cased letters (letters without case count as neither).

    >>> [word_shape(w).name for w in ["musk", "Musk", "NATO", "iPhone", "A", "1996", "--", "2nd"]]
    ['LOWER', 'TITLE', 'UPPER', 'MIXED', 'TITLE', 'DIGITS', 'OTHER', 'LOWER']
    """
    cased = [character.isupper() for character in word if character.isupper() or character.islower()]
    if not cased:
        return WordShape.DIGITS if any(character.isdigit() for character in word) else WordShape.OTHER
    if not any(cased):
        return WordShape.LOWER
    if cased[0] and not any(cased[1:]):
        return WordShape.TITLE
    if all(cased):
        return WordShape.UPPER
    return WordShape.MIXED


def word_shapes(words: Iterable[str]) -> list[int]:
    """The token-type id of each word of a sentence.

    A sentence in capitals (a headline, a shouted tweet) says nothing about which of its words are
    names: when some word is UPPER and none is lower, Title or mixed, the words take the shapes they
    would have lower-cased, in training and serving alike, so that capitals everywhere read as no
    capitals at all rather than as a name everywhere. A one-letter capital ("A", "I") is a Title word
    here, so a capitals sentence holding one keeps its shapes: the default model was trained with this
    rule as it is, and changing it means training again.

    >>> word_shapes(["Musk", "met", "NATO"]), word_shapes(["MUSK", "MET", "NATO", "IN", "2024"])
    ([1, 0, 2], [0, 0, 0, 0, 4])
    >>> word_shapes(["MUSK", "MET", "A", "CEO"])
    [2, 2, 1, 2]
    """
    shapes = [word_shape(word) for word in words]
    if WordShape.UPPER in shapes and not any(shape in _HAS_LOWER for shape in shapes):
        return lowered(shapes)
    return [int(shape) for shape in shapes]


def lowered(shape_ids: Sequence[int]) -> list[int]:
    """The shapes the same words would have lower-cased (training's case dropout).

    >>> lowered(word_shapes(["Elon", "MUSK", "iPhone", "42", "!"]))
    [0, 0, 0, 4, 5]
    """
    return [int(_LOWERED.get(WordShape(shape), shape)) for shape in shape_ids]


def subtoken_shapes(
    shapes: Sequence[int], piece_counts: Sequence[int], start: int, end: int, prefix: int, suffix: int
) -> list[int]:
    """The token type of every sub-token of a window of words ``start`` to ``end`` (end excluded): each
    word's shape on each of its ``piece_counts`` sub-tokens, the lower-case shape (the pretrained row) on
    the ``prefix`` and ``suffix`` special tokens. Training and serving both build windows with it.

    >>> subtoken_shapes([1, 0, 2], [2, 1, 3], 1, 3, prefix=1, suffix=1)
    [0, 0, 2, 2, 2, 0]
    """
    types = [int(WordShape.LOWER)] * prefix
    for word in range(start, end):
        types.extend([shapes[word]] * piece_counts[word])
    return types + [int(WordShape.LOWER)] * suffix
