"""``nerd import``: read what came back from the teacher, account for every record, label sentences.

Every answer record and every request ends as exactly one of: an imported sentence, a rejection with
its reason, or a duplicate of an id that already has one of those. Nothing is dropped silently. An
answer to a generation request (``nerd evolve plan``) holds several new sentences: each of them ends
the same way, under the id ``<custom_id>#<n>``; one whose listed entities are not all in its text is
rejected whole (``entity_not_in_text``), since the teacher wrote both and contradicts itself.
"""

from __future__ import annotations

import json
from collections import Counter
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, NotRequired, TypedDict

from nerd.annotation.alignment import EventKind
from nerd.annotation.answer_lines import AnswerLine, discover, read_lines
from nerd.annotation.answer_tagging import Labelling, label_sentence
from nerd.annotation.answers import AnswerError, check_entities_shape, extract_entities
from nerd.annotation.generated import extract_generated, read_generated
from nerd.annotation.record_shapes import (
    SENTENCE_PREFIX,
    Answer,
    RecordProblem,
    Request,
    Shape,
    read_batch_output,
    read_id,
    read_per_line,
    read_request,
    read_structured,
    read_tokens,
    shape_of,
)
from nerd.annotation.reject_reasons import RejectReason
from nerd.errors import AnswerFilesError
from nerd.labels import LabelSet
from nerd.records import Provenance, TrainingRecord
from nerd.spans import iob2_to_spans
from nerd.tokenization import tokenize_words


@dataclass(frozen=True)
class ImportOptions:
    """Policy for an import."""

    labels: LabelSet = field(default_factory=LabelSet.conll)
    drop_hallucinated: bool = False  # reject a sentence with any hallucinated entity, not just the entity


@dataclass
class Outcome:
    """What became of one record."""

    id: str | None
    line: AnswerLine
    shape: Shape
    order: tuple[int, int, int]
    record: TrainingRecord | None = None
    reason: RejectReason | None = None
    detail: str | None = None
    labelling: Labelling | None = None
    request_id: str | None = None  # the Batch request it answers, when it answers one
    difficulty: str | None = None  # of a generated sentence, as the teacher rated it
    answer_text: str | None = None  # of a generation answer, before its sentences are read
    teacher: str | None = None

    @property
    def imported(self) -> bool:
        return self.record is not None

    def reject_line(self) -> dict[str, Any]:
        return {
            "id": self.id,
            "reason": self.reason,
            "detail": self.detail,
            "file": self.line.path,
            "line": self.line.number,
            "record": self.line.data if self.line.data is not None else self.line.raw,
        }


class EntityReport(TypedDict):
    """How the teacher's entity strings fared; one count per :class:`EventKind` besides these."""

    listed: int
    aligned_by_rung: dict[str, int]
    unknown_labels: dict[str, int]
    synonyms_mapped: dict[str, int]
    imported_by_type: dict[str, int]
    hallucinated_copied_from_prompt: NotRequired[int]


class ImportReport(TypedDict):
    """The audit of an import: ``report.json``, and what ``nerd import`` prints."""

    read: int
    imported: int
    rejected: int
    duplicates: int
    rejected_by_reason: dict[str, int]
    duplicates_by_kind: dict[str, int]
    requests: dict[str, int]
    files: list[dict[str, Any]]
    entities: EntityReport
    sentences_with_hallucinations: int
    retry_requests: int
    generated: NotRequired[dict[str, Any]]
    gold: NotRequired[dict[str, Any]]
    outputs: NotRequired[dict[str, str]]


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
    requests: dict[str, Request] = field(default_factory=dict)
    request_order: dict[str, tuple[int, int]] = field(default_factory=dict)
    answers: list[tuple[int, AnswerLine, Shape | None]] = field(default_factory=list)
    summary: list[dict[str, Any]] = field(default_factory=list)


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
            its requests file, a broken or contradictory request line.
    """
    options = options or ImportOptions()
    inputs = discover(list(sources))
    files = _read_files(inputs)
    if not files.answers and not files.requests:
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

    outcomes: list[Outcome] = []
    total = len(files.answers)
    for done, (file_index, line, shape) in enumerate(files.answers, start=1):
        outcomes.extend(_outcomes(file_index, line, shape, files, options))
        if progress is not None and (done % 250 == 0 or done == total):
            progress(done, total)
    winners, duplicates = _resolve_duplicates(outcomes)
    duplicates.extend(_repeated_generated(winners))
    answered = {outcome.request_id for outcome in outcomes} | set(winners)
    for custom_id, request in files.requests.items():
        if custom_id not in answered:
            file_index, number = files.request_order[custom_id]
            line = AnswerLine(request.path, request.line, json.loads(request.raw), request.raw)
            winners[custom_id] = Outcome(
                custom_id,
                line,
                Shape.REQUEST,
                (0, file_index, number),
                reason=RejectReason.NO_RESPONSE,
                detail="the request has no answer in any output or error file",
                request_id=custom_id,
            )
    anonymous = [outcome for outcome in outcomes if outcome.id is None]
    final = sorted([*winners.values(), *anonymous], key=lambda outcome: outcome.order)

    records = [outcome.record for outcome in final if outcome.record is not None]
    rejected = [outcome for outcome in final if outcome.record is None]
    retry = [files.requests[outcome.id].raw for outcome in rejected if outcome.id in files.requests]
    events = [
        _event_line(outcome, event, files)
        for outcome in final
        if outcome.labelling is not None
        for event in outcome.labelling.events
    ]
    report = _report(outcomes, final, duplicates, files, records, len(retry))
    report["entities"]["hallucinated_copied_from_prompt"] = sum(
        1 for event in events if event.get("copied_from_prompt")
    )
    if any(request.generate for request in files.requests.values()):
        report["generated"] = _generated_report(files, final)
    return ImportResult(
        records=records,
        rejects=[outcome.reject_line() for outcome in rejected],
        duplicates=duplicates,
        events=events,
        retry_requests=retry,
        report=report,
        inputs=inputs,
    )


def _read_files(inputs: list[Path]) -> _Files:
    files = _Files()
    for file_index, path in enumerate(inputs):
        lines = list(read_lines(path))
        shapes = [shape_of(line.data) if line.data is not None else None for line in lines]
        kind = next((shape for shape in shapes if shape is not None), None)
        files.summary.append({"file": str(path), "shape": kind.value if kind else None, "lines": len(lines)})
        if kind is Shape.REQUEST:
            _add_requests(files, file_index, list(zip(lines, shapes, strict=True)))
        else:
            files.answers.extend((file_index, line, shape) for line, shape in zip(lines, shapes, strict=True))
    return files


def _add_requests(files: _Files, file_index: int, lines: list[tuple[AnswerLine, Shape | None]]) -> None:
    for line, shape in lines:
        if line.data is None:
            raise AnswerFilesError(
                f"request line unreadable ({line.problem}: {line.detail})", path=line.path, line=line.number
            )
        if shape is not Shape.REQUEST:
            raise AnswerFilesError(
                "not a Batch request line, in a requests file", path=line.path, line=line.number
            )
        try:
            request = read_request(line.data, line.path, line.number, line.raw)
        except RecordProblem as problem:
            raise AnswerFilesError(
                problem.detail, path=line.path, line=line.number, field=problem.reason
            ) from None
        known = files.requests.get(request.custom_id)
        if known is not None:
            if known.tokens != request.tokens:
                raise AnswerFilesError(
                    f"custom_id {request.custom_id!r} was already used for another sentence "
                    f"at {known.path}:{known.line}",
                    path=line.path,
                    line=line.number,
                )
            continue
        files.requests[request.custom_id] = request
        files.request_order[request.custom_id] = (file_index, line.number)


def _outcomes(
    file_index: int, line: AnswerLine, shape: Shape | None, files: _Files, options: ImportOptions
) -> list[Outcome]:
    """What became of one answer line: one outcome, or one per sentence of a generation answer."""
    outcome = _outcome(file_index, line, shape, files, options)
    request = files.requests.get(outcome.request_id or "")
    if request is None or not request.generate or outcome.reason is not None:
        return [outcome]
    try:
        assert outcome.answer_text is not None
        items = extract_generated(outcome.answer_text)
    except AnswerError as problem:
        outcome.reason, outcome.detail = problem.reason, problem.detail
        return [outcome]
    if not items:
        outcome.reason, outcome.detail = RejectReason.NO_GENERATED_SENTENCES, "the result list is empty"
        return [outcome]
    return [_generated_outcome(outcome, number, item, options) for number, item in enumerate(items, start=1)]


def _generated_outcome(answer: Outcome, number: int, item: Any, options: ImportOptions) -> Outcome:
    order = (*answer.order, number)
    outcome = Outcome(
        f"{answer.id}#{number}",
        answer.line,
        Shape.GENERATED,
        order,
        request_id=answer.request_id,
    )
    try:
        sentence = read_generated(item)
        outcome.difficulty = sentence.difficulty
        tokens = tuple(tokenize_words(sentence.text))
        if not tokens:
            raise RecordProblem(RejectReason.EMPTY_SENTENCE, "the generated sentence has no tokens")
        _label(outcome, tokens, Answer(None, entities=sentence.entities, teacher=answer.teacher), options)
        assert outcome.labelling is not None
        missing = [e.text for e in outcome.labelling.events if e.kind is EventKind.HALLUCINATED]
        if missing:
            outcome.record = None
            raise RecordProblem(
                RejectReason.ENTITY_NOT_IN_TEXT,
                f"listed entities not in the generated text: {', '.join(map(repr, missing[:5]))}",
            )
    except (RecordProblem, AnswerError) as problem:
        outcome.reason, outcome.detail = problem.reason, problem.detail
    return outcome


def _outcome(
    file_index: int, line: AnswerLine, shape: Shape | None, files: _Files, options: ImportOptions
) -> Outcome:
    order = (1, file_index, line.number)
    if line.data is None:
        outcome = Outcome(
            line.recovered_id, line, Shape.UNREADABLE, order, reason=line.problem, detail=line.detail
        )
        if line.recovered_id in files.request_order:
            outcome.order = (0, *files.request_order[line.recovered_id])
            outcome.request_id = line.recovered_id
        return outcome
    if shape is None or shape is Shape.REQUEST:
        found = shape.value if shape else "none of the known shapes"
        identifier = line.data.get("custom_id", line.data.get("id"))
        return Outcome(
            identifier if isinstance(identifier, str) else None,
            line,
            Shape.UNKNOWN,
            order,
            reason=RejectReason.WRONG_SHAPE,
            detail=f"record is {found} (expected an answer: batch output, per-line or structured)",
        )
    outcome = Outcome(None, line, shape, order)
    try:
        if shape is Shape.BATCH_OUTPUT:
            custom_id = line.data.get("custom_id")
            if not isinstance(custom_id, str) or not custom_id:
                raise RecordProblem(RejectReason.MISSING_CUSTOM_ID, "custom_id is missing or not a string")
            outcome.id = custom_id
            request = files.requests.get(custom_id)
            if request is None:
                raise RecordProblem(
                    RejectReason.UNKNOWN_CUSTOM_ID, "no request with this custom_id in the requests files"
                )
            outcome.order = (0, *files.request_order[custom_id])
            outcome.request_id = custom_id
            tokens = request.tokens
            answer = read_batch_output(line.data)
            if answer.teacher is None:
                answer = Answer(answer.text, teacher=request.model)
            if request.generate:
                # Labelled sentence by sentence in _outcomes; keep the answer until then.
                outcome.answer_text, outcome.teacher = answer.text, answer.teacher
                return outcome
        else:
            outcome.id = read_id(line.data)
            answer = read_per_line(line.data) if shape is Shape.PER_LINE else read_structured(line.data)
            tokens = read_tokens(line.data)
        _label(outcome, tokens, answer, options)
    except (RecordProblem, AnswerError) as problem:
        outcome.reason, outcome.detail = problem.reason, problem.detail
    return outcome


def _label(outcome: Outcome, tokens: tuple[str, ...], answer: Answer, options: ImportOptions) -> None:
    entities = (
        extract_entities(answer.text, options.labels)
        if answer.text is not None
        else check_entities_shape(answer.entities, options.labels)
    )
    labelling = label_sentence(tokens, entities, options.labels)
    outcome.labelling = labelling
    hallucinated = labelling.count(EventKind.HALLUCINATED)
    if options.drop_hallucinated and hallucinated:
        raise RecordProblem(
            RejectReason.HALLUCINATED_ENTITY, f"{hallucinated} entity string(s) not in the sentence"
        )
    assert outcome.id is not None
    outcome.record = TrainingRecord(
        id=outcome.id,
        tokens=list(tokens),
        tags=labelling.tags,
        provenance=Provenance(
            file=outcome.line.path,
            line=outcome.line.number,
            shape=outcome.shape,
            teacher=answer.teacher,
            difficulty=outcome.difficulty,
        ),
    )


def _resolve_duplicates(outcomes: list[Outcome]) -> tuple[dict[str, Outcome], list[dict[str, Any]]]:
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


def _repeated_generated(winners: dict[str, Outcome]) -> list[dict[str, Any]]:
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


def _generated_report(files: _Files, final: list[Outcome]) -> dict[str, Any]:
    generation = {cid for cid, request in files.requests.items() if request.generate}
    sentences = [outcome for outcome in final if outcome.shape is Shape.GENERATED]
    imported = [outcome for outcome in sentences if outcome.imported]
    return {
        "requests": len(generation),
        "asked": sum(files.requests[cid].generate or 0 for cid in generation),
        "requests_rejected": sum(
            1
            for outcome in final
            if outcome.shape is not Shape.GENERATED and outcome.request_id in generation
        ),
        "sentences": len(sentences),
        "imported": len(imported),
        "rejected": len(sentences) - len(imported),
        "imported_by_difficulty": dict(
            sorted(Counter(outcome.difficulty or "unrated" for outcome in imported).items())
        ),
    }


def _event_line(outcome: Outcome, event: Any, files: _Files) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": outcome.id,
        "kind": event.kind.value,
        "label": event.label,
        "text": event.text,
    }
    request = files.requests.get(outcome.request_id) if outcome.request_id else None
    if event.kind is EventKind.HALLUCINATED and request is not None and event.text.strip():
        # A small teacher often lists the names of its few-shot examples: a prompt problem, not noise.
        line["copied_from_prompt"] = event.text in _prompt_context(request)
    if event.span is not None:
        line["span"] = [event.span.start, event.span.end]
    if event.kept is not None:
        line["kept"] = [event.kept.start, event.kept.end, event.kept.label]
    return line


def _prompt_context(request: Request) -> str:
    """What the teacher was shown besides the sentence: instructions and few-shot examples."""
    try:
        messages = json.loads(request.raw)["body"]["messages"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return ""
    texts = [m.get("content") for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str)]
    if texts and SENTENCE_PREFIX in texts[-1]:
        texts[-1] = texts[-1].rsplit(SENTENCE_PREFIX, 1)[0]
    return "\n".join(texts)


def _report(
    outcomes: list[Outcome],
    final: list[Outcome],
    duplicates: list[dict[str, Any]],
    files: _Files,
    records: list[TrainingRecord],
    retry_count: int,
) -> ImportReport:
    rejected = [outcome for outcome in final if not outcome.imported]
    unanswered = sum(1 for outcome in rejected if outcome.reason is RejectReason.NO_RESPONSE)
    labelled = [outcome.labelling for outcome in final if outcome.labelling is not None]
    rungs: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    synonyms: Counter[str] = Counter()
    unknown_labels: Counter[str] = Counter()
    for labelling in labelled:
        rungs.update({rung.value: count for rung, count in labelling.rungs.items()})
        kinds.update(event.kind.value for event in labelling.events)
        synonyms.update(labelling.synonyms_mapped)
        unknown_labels.update(labelling.unknown_labels)
    by_type: Counter[str] = Counter(span.label for record in records for span in iob2_to_spans(record.tags))
    return {
        "read": len(outcomes) + unanswered,
        "imported": len(records),
        "rejected": len(rejected),
        "duplicates": len(duplicates),
        "rejected_by_reason": dict(sorted(Counter(outcome.reason for outcome in rejected).items())),
        "duplicates_by_kind": dict(sorted(Counter(item["kind"] for item in duplicates).items())),
        "requests": {"total": len(files.requests), "unanswered": unanswered},
        "files": files.summary,
        "entities": {
            "listed": sum(labelling.listed for labelling in labelled),
            "aligned_by_rung": {
                rung: rungs.get(rung, 0) for rung in ("exact", "case_insensitive", "normalised")
            },
            # One count for every kind of alignment event, in the enum's order: the CLI lists these too.
            **{kind.value: kinds.get(kind.value, 0) for kind in EventKind},
            "unknown_labels": dict(sorted(unknown_labels.items())),
            "synonyms_mapped": dict(sorted(synonyms.items())),
            "imported_by_type": dict(sorted(by_type.items())),
        },
        "sentences_with_hallucinations": sum(
            1 for labelling in labelled if labelling.count(EventKind.HALLUCINATED)
        ),
        "retry_requests": retry_count,
    }
