"""What becomes of one answer line of a teacher's answer files: an imported sentence or a rejection.

Each :class:`Outcome` is built once, whole, by the function that decides it; nothing changes it later.
The shape of a line picks its reader (``record_shapes.ANSWER_READERS``); an answer to a generation
request (``nerd evolve plan``) becomes one outcome per generated sentence, under ``<custom_id>#<n>``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

from nerd.annotation.alignment import EventKind
from nerd.annotation.answer_lines import AnswerLine
from nerd.annotation.answer_tagging import Labelling, label_sentence
from nerd.annotation.answers import AnswerError, check_entities_shape, extract_entities
from nerd.annotation.generated import extract_generated, read_generated
from nerd.annotation.record_shapes import (
    ANSWER_READERS,
    Answer,
    RecordProblem,
    Request,
    Shape,
    readable_id,
)
from nerd.annotation.reject_reasons import RejectReason
from nerd.labels import LabelSet
from nerd.records import Provenance, TrainingRecord
from nerd.tokenization import tokenize_words

# Sorting key of an outcome: answers to a request sort where the request is, (0, file, line); answers
# that carry their own sentence where they are, (1, file, line); a generated sentence adds its number.
Order = tuple[int, ...]


@dataclass(frozen=True)
class ImportOptions:
    """Policy for an import."""

    labels: LabelSet = field(default_factory=LabelSet.conll)
    drop_hallucinated: bool = False  # reject a sentence with any hallucinated entity, not just the entity
    strict: bool = False  # a bad request line stops the import instead of being rejected


@dataclass(frozen=True)
class Outcome:
    """What became of one record: ``record`` when imported, else ``reason`` and ``detail``."""

    id: str | None
    line: AnswerLine
    shape: Shape
    order: Order
    record: TrainingRecord | None = None
    reason: RejectReason | None = None
    detail: str | None = None
    labelling: Labelling | None = None  # kept on a rejected sentence too: its events go to the audit
    request_id: str | None = None  # the Batch request it answers, when it answers one
    difficulty: str | None = None  # of a generated sentence, as the teacher rated it

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


@dataclass(frozen=True)
class RequestIndex:
    """The requests an import knows, where each was read, and the ids whose request lines were rejected."""

    requests: Mapping[str, Request]
    order: Mapping[str, tuple[int, int]]  # custom_id -> (file index, line)
    rejected: Mapping[str, str]  # custom_id -> "file:line" of its rejected request line


def answer_outcomes(
    file_index: int, line: AnswerLine, shape: Shape | None, index: RequestIndex, options: ImportOptions
) -> list[Outcome]:
    """What became of one answer line: one outcome, or one per sentence of a generation answer."""
    order: Order = (1, file_index, line.number)
    if line.data is None:
        known = line.recovered_id in index.order
        return [
            Outcome(
                line.recovered_id,
                line,
                Shape.UNREADABLE,
                (0, *index.order[line.recovered_id]) if known else order,
                reason=line.problem,
                detail=line.detail,
                request_id=line.recovered_id if known else None,
            )
        ]
    reader = ANSWER_READERS.get(shape) if shape is not None else None
    if reader is None:
        found = shape.value if shape else "none of the known shapes"
        detail = f"record is {found} (expected an answer: batch output, per-line or structured)"
        return [
            _rejected(readable_id(line.data), line, Shape.UNKNOWN, order, RejectReason.WRONG_SHAPE, detail)
        ]
    assert shape is not None
    try:
        identifier = reader.identify(line.data)
    except RecordProblem as problem:
        return [_rejected(None, line, shape, order, problem.reason, problem.detail)]
    request = index.requests.get(identifier) if reader.answers_request else None
    if reader.answers_request:
        if request is None:
            return [
                _rejected(
                    identifier,
                    line,
                    shape,
                    order,
                    RejectReason.UNKNOWN_CUSTOM_ID,
                    _no_request(identifier, index),
                )
            ]
        order = (0, *index.order[identifier])
    request_id = identifier if request is not None else None
    try:
        tokens, answer = reader.read(line.data, request)
    except RecordProblem as problem:
        return [_rejected(identifier, line, shape, order, problem.reason, problem.detail, request_id)]
    if request is not None and request.generate:
        return _generated_outcomes(identifier, line, shape, order, answer, options)
    return [labelled(identifier, line, shape, order, tokens, answer, options, request_id=request_id)]


def _no_request(identifier: str, index: RequestIndex) -> str:
    where = index.rejected.get(identifier)
    if where is not None:
        return f"its request line ({where}) was rejected as a bad request"
    return "no request with this custom_id in the requests files"


def _rejected(
    identifier: str | None,
    line: AnswerLine,
    shape: Shape,
    order: Order,
    reason: RejectReason,
    detail: str,
    request_id: str | None = None,
) -> Outcome:
    return Outcome(identifier, line, shape, order, reason=reason, detail=detail, request_id=request_id)


def labelled(
    identifier: str,
    line: AnswerLine,
    shape: Shape,
    order: Order,
    tokens: tuple[str, ...],
    answer: Answer,
    options: ImportOptions,
    *,
    request_id: str | None = None,
    difficulty: str | None = None,
) -> Outcome:
    """A sentence labelled from the teacher's answer, or its rejection (the answer's or, with
    ``drop_hallucinated``, a hallucinated entity's)."""
    try:
        entities = (
            extract_entities(answer.text, options.labels)
            if answer.text is not None
            else check_entities_shape(answer.entities, options.labels)
        )
    except AnswerError as problem:
        return _rejected(identifier, line, shape, order, problem.reason, problem.detail, request_id)
    labelling = label_sentence(tokens, entities, options.labels)
    common = {"labelling": labelling, "request_id": request_id, "difficulty": difficulty}
    hallucinated = labelling.count(EventKind.HALLUCINATED)
    if options.drop_hallucinated and hallucinated:
        detail = f"{hallucinated} entity string(s) not in the sentence"
        return Outcome(
            identifier, line, shape, order, reason=RejectReason.HALLUCINATED_ENTITY, detail=detail, **common
        )
    record = TrainingRecord(
        id=identifier,
        tokens=list(tokens),
        tags=labelling.tags,
        provenance=Provenance(
            file=line.path, line=line.number, shape=shape, teacher=answer.teacher, difficulty=difficulty
        ),
    )
    return Outcome(identifier, line, shape, order, record=record, **common)


def _generated_outcomes(
    identifier: str, line: AnswerLine, shape: Shape, order: Order, answer: Answer, options: ImportOptions
) -> list[Outcome]:
    """One outcome per sentence of a generation answer, or the answer's own rejection."""
    try:
        assert answer.text is not None
        items = extract_generated(answer.text)
    except AnswerError as problem:
        return [_rejected(identifier, line, shape, order, problem.reason, problem.detail, identifier)]
    if not items:
        reason = RejectReason.NO_GENERATED_SENTENCES
        return [_rejected(identifier, line, shape, order, reason, "the result list is empty", identifier)]
    return [
        _generated_sentence(
            f"{identifier}#{number}", line, (*order, number), item, answer, options, identifier
        )
        for number, item in enumerate(items, start=1)
    ]


def _generated_sentence(
    identifier: str,
    line: AnswerLine,
    order: Order,
    item: Any,
    answer: Answer,
    options: ImportOptions,
    request_id: str,
) -> Outcome:
    shape = Shape.GENERATED
    try:
        sentence = read_generated(item)
    except (RecordProblem, AnswerError) as problem:
        return _rejected(identifier, line, shape, order, problem.reason, problem.detail, request_id)
    tokens = tuple(tokenize_words(sentence.text))
    if not tokens:
        return Outcome(
            identifier,
            line,
            shape,
            order,
            reason=RejectReason.EMPTY_SENTENCE,
            detail="the generated sentence has no tokens",
            request_id=request_id,
            difficulty=sentence.difficulty,
        )
    own = Answer(None, entities=sentence.entities, teacher=answer.teacher)
    outcome = labelled(
        identifier,
        line,
        shape,
        order,
        tokens,
        own,
        options,
        request_id=request_id,
        difficulty=sentence.difficulty,
    )
    missing = (
        [e.text for e in outcome.labelling.events if e.kind is EventKind.HALLUCINATED]
        if outcome.imported
        else []
    )
    if outcome.labelling is None or not missing:
        return outcome
    # The teacher wrote both the text and its entities: an entity missing from the text is a contradiction.
    return Outcome(
        identifier,
        line,
        shape,
        order,
        reason=RejectReason.ENTITY_NOT_IN_TEXT,
        detail=f"listed entities not in the generated text: {', '.join(map(repr, missing[:5]))}",
        labelling=outcome.labelling,
        request_id=request_id,
        difficulty=sentence.difficulty,
    )
