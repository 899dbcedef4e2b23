"""Labelling a file of unlabelled sentences, chunk by chunk, so that a stopped run resumes where it was.

Each chunk's records are appended to ``data.jsonl.partial`` and flushed to disk before ``progress.json``
(written atomically) counts them; a restart with the same input and the same labeller skips what is
counted and cuts off anything written after it. At the end the partial file becomes ``data.jsonl`` in
one rename and ``report.json`` says what was labelled. Records are ``nerd import``'s training records
with the soft labels added (``labels``, ``probabilities``), so ``nerd train --soft`` reads them.
"""

from __future__ import annotations

import json
import os
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from nerd.annotation.prompt_inputs import InputFormat, SourceSentence, read_sentences
from nerd.atomic import OutputError, atomic_write_text
from nerd.checksums import file_sha256
from nerd.decoding import DEFAULT_DECODING, Decoding, decode, log_of
from nerd.errors import InputError
from nerd.json_files import read_json
from nerd.pseudo_labels.labellers import Labeller
from nerd.records import Provenance, TrainingRecord
from nerd.spans import iob2_to_spans

DATA = "data.jsonl"
PARTIAL = "data.jsonl.partial"
PROGRESS = "progress.json"
REPORT = "report.json"
DECIMALS = 4


@dataclass(frozen=True)
class LabelRequest:
    """What to label, with what, and where the records go."""

    input: Path
    out_dir: Path
    labeller: Labeller
    input_format: InputFormat = InputFormat.auto
    text_field: str = "text"
    decoding: Decoding = DEFAULT_DECODING
    chunk_size: int = 2000
    force: bool = False


def label_file(
    request: LabelRequest, on_progress: Callable[[int, int], None] | None = None
) -> dict[str, Any]:
    """Label every sentence of the input; returns the report (also written as ``report.json``).

    A labelling that already finished in ``out_dir`` (same input, labeller and decoding) is not run
    again: its report comes back with ``finished_earlier``.

    Raises:
        InputError: an unreadable input, or one without a sentence.
        OutputError: an output directory that holds another run's data (without ``force``).
    """
    sentences = read_sentences(request.input, request.input_format, text_field=request.text_field)
    if not sentences:
        raise InputError("no sentences to label", path=request.input)
    identity = {
        "input": request.input.name,
        "input_sha256": file_sha256(request.input),
        "labeller": request.labeller.name,
        "labeller_sha256": request.labeller.sha256,
        "decoding": request.decoding,
        "sentences": len(sentences),
    }
    finished = None if request.force else _finished_report(request.out_dir, identity)
    if finished is not None:
        return {**finished, "finished_earlier": True}
    done = _resume_point(request, identity)
    started = time.perf_counter()
    partial = request.out_dir / PARTIAL
    with partial.open("r+b" if partial.exists() else "wb") as stream:
        stream.seek(done["bytes"])
        stream.truncate()
        for start in range(done["sentences"], len(sentences), request.chunk_size):
            chunk = sentences[start : start + request.chunk_size]
            lines = _records(chunk, start, request, identity)
            stream.write("".join(line + "\n" for line in lines).encode("utf-8"))
            stream.flush()
            os.fsync(stream.fileno())
            progress = {**identity, "done": start + len(chunk), "bytes": stream.tell()}
            atomic_write_text(request.out_dir / PROGRESS, json.dumps(progress, indent=2) + "\n")
            if on_progress is not None:
                on_progress(start + len(chunk), len(sentences))
    # This run's labelling time (a resumed run counts only what it labelled itself).
    seconds = round(time.perf_counter() - started, 1)
    report = {
        **identity,
        **_summary(partial),
        "data_sha256": file_sha256(partial),
        "seconds": seconds,
        "resumed_at": done["sentences"],
    }
    os.replace(partial, request.out_dir / DATA)
    atomic_write_text(request.out_dir / REPORT, json.dumps(report, indent=2) + "\n")
    (request.out_dir / PROGRESS).unlink(missing_ok=True)
    return report


def _finished_report(out: Path, identity: dict[str, Any]) -> dict[str, Any] | None:
    """The report of an earlier run of this very labelling that finished, its data untouched, else None."""
    if not (out / REPORT).is_file() or not (out / DATA).is_file():
        return None
    try:
        report = read_json(out / REPORT)
    except InputError:
        return None
    if not isinstance(report, dict) or any(report.get(key) != value for key, value in identity.items()):
        return None
    recorded = report.get("data_sha256")
    if recorded is not None and recorded != file_sha256(out / DATA):
        return None  # the data was changed since: not this run's output any more
    return report


def _resume_point(request: LabelRequest, identity: dict[str, Any]) -> dict[str, int]:
    """Where an earlier run of the same labelling stopped (nothing done for a new one)."""
    out = request.out_dir
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{out}: cannot create: {error.strerror or error}") from None
    progress_path = out / PROGRESS
    if progress_path.is_file() and (out / PARTIAL).is_file():
        progress = read_json(progress_path)
        same = isinstance(progress, dict) and all(
            progress.get(key) == value for key, value in identity.items()
        )
        if same:
            return {"sentences": int(progress["done"]), "bytes": int(progress["bytes"])}
        if not request.force:
            raise OutputError(
                f"{out}: holds an unfinished labelling of another input, labeller or decoding "
                "(--force starts over)"
            )
    elif (out / DATA).exists() and not request.force:
        raise OutputError(
            f"{out / DATA}: already exists, from another input, labeller or decoding, or changed since "
            "(--force replaces it)"
        )
    (out / PARTIAL).unlink(missing_ok=True)
    return {"sentences": 0, "bytes": 0}


def _records(
    chunk: Sequence[SourceSentence], offset: int, request: LabelRequest, identity: dict[str, Any]
) -> list[str]:
    labels = list(request.labeller.labels)
    distributions = request.labeller.distributions([list(s.tokens) for s in chunk])
    tags = decode([log_of(rows) for rows in distributions], labels, request.decoding)
    stem = request.input.stem
    lines = []
    for number, (sentence, rows, sentence_tags) in enumerate(zip(chunk, distributions, tags, strict=True)):
        record = TrainingRecord(
            id=f"{stem}-{offset + number + 1:07d}",
            tokens=list(sentence.tokens),
            tags=sentence_tags,
            labels=labels,
            probabilities=_rows(rows),
            provenance=Provenance(
                file=identity["input"],
                line=sentence.line,
                shape="soft-labels",
                teacher=identity["labeller"],
                labeller_sha256=identity["labeller_sha256"],
                input_sha256=identity["input_sha256"],
            ),
        )
        lines.append(record.to_json_line())
    return lines


def _rows(rows: np.ndarray) -> list[list[float]]:
    """Rounded distributions that still sum to 1 (the rounding error goes to each row's largest value)."""
    rounded = np.round(rows.astype(np.float64), DECIMALS)
    rounded[np.arange(len(rounded)), rounded.argmax(axis=-1)] += 1.0 - rounded.sum(axis=-1)
    return np.clip(rounded, 0.0, 1.0).round(DECIMALS).tolist()


def _summary(path: Path) -> dict[str, Any]:
    """Counts over the written records: sentences, words, entities by type, mean confidence."""
    sentences = words = 0
    entities: Counter[str] = Counter()
    confidence = 0.0
    with path.open(encoding="utf-8") as stream:
        for line in stream:
            record = json.loads(line)
            sentences += 1
            words += len(record["tokens"])
            entities.update(span.label for span in iob2_to_spans(record["tags"]))
            confidence += sum(max(row) for row in record["probabilities"])
    return {
        "records": sentences,
        "words": words,
        "entities": dict(sorted(entities.items())),
        "mean_word_confidence": round(confidence / max(words, 1), 4),
    }
