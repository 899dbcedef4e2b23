"""Sentences into a review database: raw or tokenised text (every format ``nerd prompts`` reads), a
teacher's imported records (``imported/data.jsonl``: its entities become suggestions, with their
provenance), and optionally a model (bundle or checkpoint) whose spans and confidence are shown beside
them and order the queue."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from nerd.annotation.prompt_inputs import InputFormat, read_sentences
from nerd.decoding import DEFAULT_DECODING, decode, log_of
from nerd.errors import InputError
from nerd.records import numbered_records
from nerd.review.store import NewItem
from nerd.review.suggestions import disagreement, model_spans, spans_of_tags, uncertainty
from nerd.spans import labels_of

# Sentences tagged per model call: big enough to keep the cores busy, small enough for the progress.
MODEL_CHUNK = 256
# Longest sentence a person is shown whole: a longer one is split (each arrow key redraws the sentence,
# and a 20,000-token one took 1.7 s a key).
MAX_TOKENS = 512


@dataclass(frozen=True)
class Inputs:
    texts: Sequence[Path] = ()
    teacher: Sequence[Path] = ()
    text_format: InputFormat = InputFormat.auto


def read_inputs(inputs: Inputs, labels: Sequence[str]) -> list[NewItem]:
    """Every sentence of the inputs, in order: the teacher's records first, then the texts.

    Raises:
        InputError: an unreadable file, or a teacher record with a label outside ``labels``.
    """
    items: list[NewItem] = []
    known = set(labels)
    for path in inputs.teacher:
        for number, record in numbered_records(path):
            _check_tokens(record.tokens, path, number)
            unknown = labels_of(record.tags) - known
            if unknown:
                raise InputError(
                    f"record {record.id!r} has labels {', '.join(sorted(unknown))} outside the review's "
                    f"label set ({', '.join(labels)})",
                    path=path,
                    line=number,
                )
            provenance = {"id": record.id}
            if record.provenance is not None:
                provenance.update(record.provenance.model_dump(exclude_none=True))
            items.append(
                NewItem(
                    tokens=tuple(record.tokens),
                    # The line of the file the reviewer gave (the record's own provenance keeps the
                    # line of the teacher's answer it came from).
                    source=f"{path}:{number}",
                    teacher=spans_of_tags(record.tags),
                    teacher_provenance=provenance,
                )
            )
    for path in inputs.texts:
        for sentence in read_sentences(path, inputs.text_format):
            _check_tokens(sentence.tokens, path, sentence.line)
            items.append(NewItem(tokens=sentence.tokens, source=f"{path}:{sentence.line}"))
    if not items:
        raise InputError("no sentence in the inputs: give --texts or --teacher files that hold some")
    return items


def _check_tokens(tokens: Sequence[str], path: Path, line: int | None) -> None:
    """A token must be one CoNLL column: no whitespace in it, not empty (else the export could not be
    read back)."""
    for index, token in enumerate(tokens):
        if not token or any(character.isspace() for character in token):
            shown = repr(token) if len(token) <= 40 else repr(token[:40]) + "..."
            raise InputError(
                f"token {index} ({shown}) is empty or holds whitespace: a token is one CoNLL column",
                path=path,
                line=line,
            )


def _cut_points(item: NewItem, max_tokens: int) -> list[int]:
    """Where to split: every max_tokens tokens, moved back to before any teacher entity it would cut."""
    inside = {t for span in item.teacher or [] for t in range(int(span[0]) + 1, int(span[1]))}
    cuts, start = [], 0
    while len(item.tokens) - start > max_tokens:
        cut = start + max_tokens
        while cut in inside and cut > start + 1:
            cut -= 1
        cuts.append(cut)
        start = cut
    return cuts


def split_long(items: Sequence[NewItem], max_tokens: int) -> tuple[list[NewItem], int, int]:
    """Items over ``max_tokens`` split into parts; returns the items, how many were split and the
    number of parts they became."""
    done: list[NewItem] = []
    split = parts = 0
    for item in items:
        cuts = _cut_points(item, max_tokens)
        if not cuts:
            done.append(item)
            continue
        split += 1
        bounds = [0, *cuts, len(item.tokens)]
        for number, (start, end) in enumerate(itertools.pairwise(bounds), start=1):
            teacher = None
            if item.teacher is not None:
                teacher = [
                    [s[0] - start, s[1] - start, *s[2:]]
                    for s in item.teacher
                    if start <= s[0] and s[1] <= end
                ]
            # The source stays file:line (the export's provenance reads it); the part is said beside.
            provenance = {**(item.teacher_provenance or {}), "part": f"{number}/{len(bounds) - 1}"}
            done.append(
                replace(
                    item,
                    tokens=item.tokens[start:end],
                    teacher=teacher,
                    teacher_provenance=provenance,
                )
            )
            parts += 1
    return done, split, parts


def with_model(
    items: Sequence[NewItem],
    model: Path,
    labels: Sequence[str],
    *,
    threads: int | None = None,
    progress: Callable[[int, int], None] | None = None,
) -> list[NewItem]:
    """The items with the model's spans, their confidence, and the queue's two orders filled in.

    Raises:
        InputError: neither a bundle nor a checkpoint, or a model whose entity types are not the
            review's label set.
    """
    from nerd.tagging.opening import open_tagger

    tagger = open_tagger(model, threads=threads)
    types = sorted({label[2:] for label in tagger.labels if label != "O"})
    if sorted(labels) != types:
        raise InputError(
            f"the model tags {', '.join(types)}, the review's label set is {', '.join(labels)}", path=model
        )
    done: list[NewItem] = []
    for start in range(0, len(items), MODEL_CHUNK):
        chunk = items[start : start + MODEL_CHUNK]
        distributions = tagger.word_probabilities([item.tokens for item in chunk], batch_size=64)
        all_tags = decode([log_of(d) for d in distributions], tagger.labels, DEFAULT_DECODING)
        for item, probabilities, tags in zip(chunk, distributions, all_tags, strict=True):
            spans = model_spans(tags, probabilities, tagger.labels)
            done.append(
                replace(
                    item,
                    model=spans,
                    uncertainty=uncertainty(tags, probabilities, tagger.labels),
                    disagreement=disagreement(item.teacher, spans),
                )
            )
        if progress is not None:
            progress(len(done), len(items))
    return done
