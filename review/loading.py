"""Sentences into a review database: raw or tokenised text (every format ``nerd prompts`` reads), a
teacher's imported records (``imported/data.jsonl``: its entities become suggestions, with their
provenance), and optionally a model (bundle or checkpoint) whose spans and confidence are shown beside
them and order the queue."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, replace
from pathlib import Path

from nerd.annotation.prompt_inputs import InputFormat, read_sentences
from nerd.decoding import DEFAULT_DECODING, decode, log_of
from nerd.errors import InputError
from nerd.records import read_records
from nerd.review.store import NewItem
from nerd.review.suggestions import disagreement, model_spans, spans_of_tags, uncertainty
from nerd.spans import labels_of

# Sentences tagged per model call: big enough to keep the cores busy, small enough for the progress.
MODEL_CHUNK = 256


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
        for record in read_records(path):
            unknown = labels_of(record.tags) - known
            if unknown:
                raise InputError(
                    f"record {record.id!r} has labels {', '.join(sorted(unknown))} outside the review's "
                    f"label set ({', '.join(labels)})",
                    path=path,
                )
            provenance = {"id": record.id}
            if record.provenance is not None:
                provenance.update(record.provenance.model_dump(exclude_none=True))
            items.append(
                NewItem(
                    tokens=tuple(record.tokens),
                    source=f"{path}:{record.provenance.line if record.provenance else ''}",
                    teacher=spans_of_tags(record.tags),
                    teacher_provenance=provenance,
                )
            )
    for path in inputs.texts:
        for sentence in read_sentences(path, inputs.text_format):
            items.append(NewItem(tokens=sentence.tokens, source=f"{path}:{sentence.line}"))
    if not items:
        raise InputError("no sentence in the inputs: give --texts or --teacher files that hold some")
    return items


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
