"""Words to encoder windows with the bundle's own ``tokenizer.json`` (the ``tokenizers`` library only).

Mirrors ``training/features.py`` exactly, so the exported model reads the same sub-tokens it was trained
and verified on: each word's first sub-token carries its label; a sentence longer than the window is cut
into windows of whole words, so no word is dropped; a word the tokenizer reads as nothing gets the
unknown token. With ``stride`` > 0 consecutive windows overlap by up to that many sub-tokens and each
word is owned by the window where it sits further from the edge (more context on both sides). A model
trained with word shapes (:mod:`nerd.word_shapes`) also gets each sub-token's word shape as its token type.
"""

from __future__ import annotations

import json
from collections.abc import Collection, Sequence
from dataclasses import dataclass
from pathlib import Path

import numpy as np
from tokenizers import Tokenizer

from nerd.errors import ModelBundleError
from nerd.windows import window_bounds
from nerd.word_shapes import SHAPE_NAMES, subtoken_shapes, word_shapes


@dataclass(frozen=True)
class Window:
    """One window of one sentence: sub-token ids and where each of its words starts."""

    input_ids: list[int]
    sentence: int  # index of the sentence in the batch that was encoded
    first_word: int  # index in the sentence of the window's first word
    word_starts: list[int]  # position of each word's first sub-token in input_ids
    owned: tuple[int, int] = (0, 0)  # sentence word indices [from, to) this window labels
    truncated: bool = False  # a word longer than a whole window lost its last sub-tokens
    shape_ids: list[int] | None = None  # each sub-token's word shape, where the model reads them

    def __len__(self) -> int:
        return len(self.input_ids)

    def word_positions(self, offset: int, suffix_length: int) -> range:
        """Positions in ``input_ids`` of all sub-tokens of the window's ``offset``-th word."""
        end = (
            self.word_starts[offset + 1] if offset + 1 < len(self.word_starts) else len(self) - suffix_length
        )
        return range(self.word_starts[offset], end)


class WordEncoder:
    """Encodes pre-split words into windows of at most ``max_length`` sub-tokens."""

    def __init__(self, tokenizer: Path | bytes, max_length: int, *, shapes: bool = False) -> None:
        """``tokenizer``: a ``tokenizer.json`` file, or its bytes as a verified bundle read them;
        ``shapes``: give every window its sub-tokens' word shapes (a model trained with them)."""
        where = tokenizer if isinstance(tokenizer, Path) else "tokenizer.json"
        try:
            data = tokenizer.read_bytes() if isinstance(tokenizer, Path) else tokenizer
            loaded = Tokenizer.from_str(data.decode("utf-8"))
        except Exception as error:  # tokenizers raises a bare Exception for malformed files
            raise ModelBundleError(f"cannot load the tokenizer: {error}", path=where) from None
        tokenizer = loaded
        self.shapes = shapes
        # A tokenizer.json saved after training may carry padding or truncation; windows replace both.
        tokenizer.no_padding()
        tokenizer.no_truncation()
        self.tokenizer = tokenizer
        self.prefix, self.suffix = self._special_layout()
        self.budget = max_length - len(self.prefix) - len(self.suffix)
        if self.budget < 1:
            raise ModelBundleError(f"max length {max_length} leaves no room between the special tokens")
        unknown = getattr(tokenizer.model, "unk_token", None)
        self.unknown_id = tokenizer.token_to_id(unknown) if unknown else None
        if self.unknown_id is None:
            self.unknown_id = self.prefix[0] if self.prefix else 0

    def _special_layout(self) -> tuple[list[int], list[int]]:
        bare = self.tokenizer.encode(["a"], is_pretokenized=True, add_special_tokens=False).ids
        full = self.tokenizer.encode(["a"], is_pretokenized=True, add_special_tokens=True).ids
        for at in range(len(full) - len(bare) + 1):
            if full[at : at + len(bare)] == bare:
                return full[:at], full[at + len(bare) :]
        return [], []

    def subtoken_counts(self, sentences: Sequence[Sequence[str]]) -> list[int]:
        """Each sentence's sub-tokens without the special ones (a word read as nothing counts one)."""
        encodings = self.tokenizer.encode_batch(
            [list(words) for words in sentences], is_pretokenized=True, add_special_tokens=False
        )
        return [
            len(encoding.ids) + len(words) - len({word for word in encoding.word_ids if word is not None})
            for words, encoding in zip(sentences, encodings, strict=True)
        ]

    def encode(self, sentences: Sequence[Sequence[str]], *, stride: int = 0) -> list[Window]:
        """Windows for every sentence, in order; an empty sentence gives no window."""
        windows: list[Window] = []
        encodings = self.tokenizer.encode_batch(
            [list(words) for words in sentences], is_pretokenized=True, add_special_tokens=False
        )
        for index, (words, encoding) in enumerate(zip(sentences, encodings, strict=True)):
            pieces: list[list[int]] = [[] for _ in words]
            for token_id, word in zip(encoding.ids, encoding.word_ids, strict=True):
                if word is not None:
                    pieces[word].append(token_id)
            cut = {word for word, word_pieces in enumerate(pieces) if len(word_pieces) > self.budget}
            pieces = [word_pieces[: self.budget] or [self.unknown_id] for word_pieces in pieces]
            shapes = word_shapes(words) if self.shapes else None
            windows.extend(self._windows(pieces, index, cut, stride, shapes))
        return windows

    def _windows(
        self, pieces: list[list[int]], sentence: int, cut: set[int], stride: int, shapes: list[int] | None
    ) -> list[Window]:
        windows = []
        counts = [len(word_pieces) for word_pieces in pieces]
        for bounds in window_bounds(counts, self.budget, stride):
            input_ids = list(self.prefix)
            starts = []
            for word in range(bounds.start, bounds.end):
                starts.append(len(input_ids))
                input_ids.extend(pieces[word])
            input_ids.extend(self.suffix)
            truncated = any(bounds.start <= word < bounds.end for word in cut)
            owned = (bounds.owned_from, bounds.owned_to)
            shape_ids = None
            if shapes is not None:
                shape_ids = subtoken_shapes(
                    shapes, counts, bounds.start, bounds.end, len(self.prefix), len(self.suffix)
                )
            windows.append(Window(input_ids, sentence, bounds.start, starts, owned, truncated, shape_ids))
        return windows


def model_inputs(
    windows: Sequence[Window], pad_id: int, input_names: Collection[str], width: int = 0
) -> dict[str, np.ndarray]:
    """The encoder's inputs for one batch, padded to its longest window (or to ``width``, if wider): ids,
    attention mask and, where the graph reads them, token types (the word shapes of a model trained with
    them, else zeros)."""
    width = max(width, *(len(window) for window in windows))
    input_ids = np.full((len(windows), width), pad_id, dtype=np.int64)
    attention_mask = np.zeros((len(windows), width), dtype=np.int64)
    for row, window in enumerate(windows):
        input_ids[row, : len(window)] = window.input_ids
        attention_mask[row, : len(window)] = 1
    feed = {"input_ids": input_ids, "attention_mask": attention_mask}
    if "token_type_ids" in input_names:
        token_types = np.zeros_like(input_ids)
        for row, window in enumerate(windows):
            if window.shape_ids is not None:
                token_types[row, : len(window)] = window.shape_ids
        feed["token_type_ids"] = token_types
    return feed


def pad_token_id(config: Path | bytes | None, encoder: WordEncoder) -> int:
    """The padding id: the model config's (a ``config.json`` or its bytes), else the tokenizer's own pad
    token. Padded positions are masked out, so any id works; the model's own keeps the inputs what it
    was trained on."""
    try:
        data = config.read_bytes() if isinstance(config, Path) else config
        configured = json.loads(data.decode("utf-8")).get("pad_token_id") if data is not None else None
    except (OSError, ValueError, AttributeError, RecursionError):
        configured = None
    if isinstance(configured, int) and configured >= 0:
        return configured
    for token in ("[PAD]", "<pad>"):
        found = encoder.tokenizer.token_to_id(token)
        if found is not None:
            return found
    return 0


def shapes_read_by(recorded: object, where: Path | str) -> bool:
    """Whether a model reads word shapes, from what its ``config.json`` or ``bundle.json`` records
    (``word_shapes``: the shape names in id order; absent or null for a model without them).

    Raises:
        ModelBundleError: shapes other than the ones this version of nerd computes.
    """
    if recorded is None:
        return False
    if recorded != list(SHAPE_NAMES):
        raise ModelBundleError(
            f"the model reads word shapes {recorded!r}; this nerd computes {list(SHAPE_NAMES)}",
            path=where,
            field="word_shapes",
        )
    return True
