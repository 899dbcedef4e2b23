"""``nerd import``: read what came back from the teacher, account for every record, label sentences.

Every answer record and every request ends as exactly one of: an imported sentence, a rejection with
its reason, or a duplicate of an id that already has one of those. Nothing is dropped silently: a bad
line of a requests file is a rejection too (``bad_request``), and its answer one of its own
(``--strict`` stops at it instead). An answer to a generation request (``nerd evolve plan``) holds
several new sentences: each of them ends the same way, under the id ``<custom_id>#<n>``; one whose
listed entities are not all in its text is rejected whole (``entity_not_in_text``), since the teacher
wrote both and contradicts itself.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerd.annotation.answer_lines import AnswerLine, discover, read_lines
from nerd.annotation.import_outcomes import ImportOptions, Outcome, RequestIndex, answer_outcomes
from nerd.annotation.import_report import ImportReport, build_report, event_lines
from nerd.annotation.record_shapes import RecordProblem, Request, Shape, read_request, readable_id, shape_of
from nerd.annotation.reject_reasons import RejectReason
from nerd.errors import AnswerFilesError
from nerd.records import TrainingRecord

__all__ = ["ImportOptions", "ImportReport", "ImportResult", "import_answers"]


@dataclass
class ImportResult:
    """Everything an import produced, before anything is written."""

    records: list[TrainingRecord]
    rejects: list[dict[str, Any]]
    duplicates: list[dict[str, Any]]
    events: list[dict[str, Any]]
    retry_requests: list[str]
    report: ImportReport
    inputs: list[Path]


@dataclass
class _Files:
    """The answer files as read: the requests (and the rejected request lines) and the answer lines."""

    requests: dict[str, Request] = field(default_factory=dict)
    request_order: dict[str, tuple[int, int]] = field(default_factory=dict)
    bad_requests: list[Outcome] = field(default_factory=list)
    answers: list[tuple[int, AnswerLine, Shape | None]] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)

    def index(self) -> RequestIndex:
        rejected = {o.id: f"{o.line.path}:{o.line.number}" for o in self.bad_requests if o.id is not None}
        return RequestIndex(self.requests, self.request_order, rejected)


def import_answers(
    sources: Iterable[Path],
    options: ImportOptions | None = None,
    *,
    progress: Callable[[int, int], None] | None = None,
) -> ImportResult:
    """Read the answer files under ``sources`` and label every answer.

    Raises:
        AnswerFilesError: something that spoils the answer files as a whole: a missing source, a directory
            without answer files, no records at all or none of a known shape, batch output without
            its requests file; with ``options.strict``, a broken or contradictory request line.
    """
    options = options or ImportOptions()
    inputs = discover(list(sources))
    files = _read_files(inputs, strict=options.strict)
    _check_files(files, inputs)
    index = files.index()
    outcomes: list[Outcome] = []
    total = len(files.answers)
    for done, (file_index, line, shape) in enumerate(files.answers, start=1):
        outcomes.extend(answer_outcomes(file_index, line, shape, index, options))
        if progress is not None and (done % 250 == 0 or done == total):
            progress(done, total)
    winners, duplicates = resolve_duplicates(outcomes)
    duplicates.extend(repeated_generated(winners))
    unanswered = _unanswered(files, answered={outcome.request_id for outcome in outcomes} | set(winners))
    anonymous = [outcome for outcome in outcomes if outcome.id is None]
    final = sorted([*winners.values(), *unanswered, *anonymous, *files.bad_requests], key=lambda o: o.order)

    records = [outcome.record for outcome in final if outcome.record is not None]
    rejected = [outcome for outcome in final if outcome.record is None]
    retry = [files.requests[outcome.id].raw for outcome in rejected if outcome.id in files.requests]
    events = event_lines(final, files.requests)
    report = build_report(
        read=len(outcomes) + len(unanswered) + len(files.bad_requests),
        final=final,
        duplicates=duplicates,
        requests=files.requests,
        files=files.summary,
        records=records,
        events=events,
        retry_count=len(retry),
    )
    return ImportResult(
        records=records,
        rejects=[outcome.reject_line() for outcome in rejected],
        duplicates=duplicates,
        events=events,
        retry_requests=retry,
        report=report,
        inputs=inputs,
    )


def _check_files(files: _Files, inputs: list[Path]) -> None:
    if not files.answers and not files.requests and not files.bad_requests:
        raise AnswerFilesError(
            "no records found: every file is empty", path=", ".join(str(path) for path in inputs)
        )
    if all(source["shape"] is None for source in files.summary):
        raise AnswerFilesError(
            "no record of a known shape (Batch API requests, output or errors; per-line exports with "
            "id, text or tokens and response; structured records with entities): are these a teacher's "
            "answers?",
            path=", ".join(source["file"] for source in files.summary if source["lines"]),
        )
    if not files.requests and any(shape is Shape.BATCH_OUTPUT for _, _, shape in files.answers):
        first = next(line for _, line, shape in files.answers if shape is Shape.BATCH_OUTPUT)
        raise AnswerFilesError(
            "Batch API output without its requests file: pass the requests .jsonl that produced it "
            "(the sentences are only in the requests)",
            path=first.path,
        )


def _unanswered(files: _Files, answered: set[str | None]) -> list[Outcome]:
    """A rejection for every request that no output or error line answers."""
    missing = []
    for custom_id, request in files.requests.items():
        if custom_id in answered:
            continue
        file_index, number = files.request_order[custom_id]
        line = AnswerLine(request.path, request.line, json.loads(request.raw), request.raw)
        missing.append(
            Outcome(
                custom_id,
                line,
                Shape.REQUEST,
                (0, file_index, number),
                reason=RejectReason.NO_RESPONSE,
                detail="the request has no answer in any output or error file",
                request_id=custom_id,
            )
        )
    return missing


def _read_files(inputs: list[Path], *, strict: bool) -> _Files:
    files = _Files()
    for file_index, path in enumerate(inputs):
        lines = list(read_lines(path))
        shapes = [shape_of(line.data) if line.data is not None else None for line in lines]
        kind = next((shape for shape in shapes if shape is not None), None)
        files.summary.append({"file": str(path), "shape": kind.value if kind else None, "lines": len(lines)})
        if kind is Shape.REQUEST:
            _add_requests(files, file_index, list(zip(lines, shapes, strict=True)), strict=strict)
        else:
            files.answers.extend((file_index, line, shape) for line, shape in zip(lines, shapes, strict=True))
    return files


def _add_requests(
    files: _Files, file_index: int, lines: list[tuple[AnswerLine, Shape | None]], *, strict: bool
) -> None:
    """The requests of one requests file; each line that names no usable request is a rejection (or,
    ``strict``, the end of the import)."""
    conflicting: dict[str, Request] = {}
    for line, shape in lines:
        try:
            request = _request_of(line, shape)
        except AnswerFilesError as problem:
            if strict:
                raise
            identifier = line.recovered_id if line.data is None else readable_id(line.data)
            detail = f"{problem.field}: {problem.reason}" if problem.field else problem.reason
            files.bad_requests.append(_bad_request(identifier, line, file_index, detail))
            continue
        known = files.requests.get(request.custom_id) or conflicting.get(request.custom_id)
        if known is None:
            files.requests[request.custom_id] = request
            files.request_order[request.custom_id] = (file_index, line.number)
            continue
        if known.tokens == request.tokens:
            continue  # the same question asked twice is one question
        custom_id = request.custom_id
        detail = f"custom_id {custom_id!r} was already used for another sentence at {known.path}:{known.line}"
        if strict:
            raise AnswerFilesError(detail, path=line.path, line=line.number)
        # Which sentence its answer is about cannot be known: neither request stands.
        if request.custom_id in files.requests:
            conflicting[request.custom_id] = files.requests.pop(request.custom_id)
            first_index, _ = files.request_order.pop(request.custom_id)
            first = AnswerLine(known.path, known.line, json.loads(known.raw), known.raw)
            later = f"custom_id {custom_id!r} is used for another sentence at {line.path}:{line.number} too"
            files.bad_requests.append(_bad_request(request.custom_id, first, first_index, later))
        files.bad_requests.append(_bad_request(request.custom_id, line, file_index, detail))


def _request_of(line: AnswerLine, shape: Shape | None) -> Request:
    """The request a line of a requests file holds.

    Raises:
        AnswerFilesError: naming the file, the line and what is wrong with it.
    """
    if line.data is None:
        raise AnswerFilesError(
            f"request line unreadable ({line.problem}: {line.detail})", path=line.path, line=line.number
        )
    if shape is not Shape.REQUEST:
        raise AnswerFilesError(
            "not a Batch request line, in a requests file", path=line.path, line=line.number
        )
    try:
        return read_request(line.data, line.path, line.number, line.raw)
    except RecordProblem as problem:
        raise AnswerFilesError(
            problem.detail, path=line.path, line=line.number, field=problem.reason
        ) from None


def _bad_request(identifier: str | None, line: AnswerLine, file_index: int, detail: str) -> Outcome:
    return Outcome(
        identifier,
        line,
        Shape.REQUEST,
        (0, file_index, line.number),
        reason=RejectReason.BAD_REQUEST,
        detail=detail,
    )


def resolve_duplicates(outcomes: list[Outcome]) -> tuple[dict[str, Outcome], list[dict[str, Any]]]:
    """One outcome per id: the first imported one, else the first rejection. The rest are duplicates."""
    by_id: dict[str, list[Outcome]] = {}
    for outcome in outcomes:
        if outcome.id is not None:
            by_id.setdefault(outcome.id, []).append(outcome)
    winners: dict[str, Outcome] = {}
    duplicates: list[dict[str, Any]] = []
    for identifier, group in by_id.items():
        winner = next((outcome for outcome in group if outcome.imported), group[0])
        winners[identifier] = winner
        for other in group:
            if other is winner:
                continue
            if other.line.raw == winner.line.raw:
                kind = "identical"
            elif winner.imported and not other.imported:
                kind = "superseded"
            else:
                kind = "same_id"
            duplicates.append(
                {
                    "id": identifier,
                    "kind": kind,
                    "reason": other.reason,
                    "kept": {"file": winner.line.path, "line": winner.line.number},
                    "file": other.line.path,
                    "line": other.line.number,
                    "record": other.line.data if other.line.data is not None else other.line.raw,
                }
            )
    duplicates.sort(key=lambda item: (item["file"], item["line"]))
    return winners, duplicates


def repeated_generated(winners: dict[str, Outcome]) -> list[dict[str, Any]]:
    """Generated sentences that repeat an earlier imported one word for word become duplicates:
    training on the same sentence twice only weights it."""
    seen: dict[tuple[str, ...], Outcome] = {}
    repeated: list[dict[str, Any]] = []
    for identifier, outcome in sorted(winners.items(), key=lambda item: item[1].order):
        if outcome.shape is not Shape.GENERATED or outcome.record is None:
            continue
        tokens = tuple(outcome.record.tokens)
        first = seen.setdefault(tokens, outcome)
        if first is outcome:
            continue
        del winners[identifier]
        repeated.append(
            {
                "id": identifier,
                "kind": "repeated_sentence",
                "reason": None,
                "kept": {"id": first.id, "file": first.line.path, "line": first.line.number},
                "file": outcome.line.path,
                "line": outcome.line.number,
                "record": {"text": " ".join(tokens), "tags": outcome.record.tags},
            }
        )
    return repeated
