"""``nerd review init`` as a function: a review database filled with sentences and their suggestions."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from nerd.labels import load_label_set
from nerd.review.loading import MAX_TOKENS, Inputs, read_inputs, split_long, with_model
from nerd.review.store import ReviewStore


@dataclass(frozen=True)
class SetupReport:
    added: int
    duplicates: int
    labels: list[str]
    model: bool
    split: int = 0  # sentences over max_tokens, split
    parts: int = 0  # the parts they became
    max_tokens: int = 0


def set_up_review(
    db: str | Path,
    inputs: Inputs,
    *,
    labels: Path | None = None,
    model: Path | None = None,
    overlap_every: int = 0,
    max_tokens: int = MAX_TOKENS,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> SetupReport:
    """Create (or add to) a review database: the label set (CoNLL's, or a JSON file of definitions),
    the sentences of ``inputs`` once each, the model's suggestions when a model is given.

    Raises:
        ReviewStoreError: a database for another label set, or an unusable one.
        InputError, LabelMapError: unreadable inputs or label file, a model of other labels.
    """
    label_set = load_label_set(labels)
    label_names = list(label_set.labels)
    # The database is checked first: another program's file is refused before any input is read.
    store = ReviewStore(db, create=True)
    items, split, parts = split_long(read_inputs(inputs, label_names), max_tokens)
    if model is not None:
        items = with_model(items, model, label_names, threads=threads, progress=progress)
    store.create(label_names, dict(label_set.definitions))
    added, duplicates = store.add_items(items, overlap_every=overlap_every)
    return SetupReport(added, duplicates, label_names, model is not None, split, parts, max_tokens)
