"""The record shapes a teacher's answer files can hold, and how each is read into one common form.

- ``request``: an OpenAI Batch API request line (``custom_id``, ``method``, ``url``, ``body``);
- ``batch_output``: a Batch API output or error line (``custom_id``, ``response``, ``error``);
- ``per_line``: a simple export, one sentence a line (``id``, ``text`` or ``tokens``, ``response``);
- ``structured``: a hand-corrected or generated line (``id``, ``text`` or ``tokens``, ``entities``).

A request either asks the teacher to annotate one sentence (``Sentence: ...`` in its last user
message) or to write new labelled sentences (``Generate: N sentences ...``, from ``nerd evolve plan``).
"""

from __future__ import annotations

import re
from collections.abc import Callable
from dataclasses import dataclass
from enum import StrEnum
from typing import Any

from nerd.annotation.reject_reasons import RejectReason
from nerd.tokenization import tokenize_words

SENTENCE_PREFIX = "Sentence: "
# The line of a generation request that says how many sentences it asks for: "Generate: 12 sentences".
GENERATION_PREFIX = "Generate: "
_GENERATION_COUNT = re.compile(r"^Generate: (\d{1,4}) sentences", re.MULTILINE)


class Shape(StrEnum):
    """What a line of the answer files is (the last three are what an import makes of a line, not shapes
    it reads)."""

    REQUEST = "request"
    BATCH_OUTPUT = "batch_output"
    PER_LINE = "per_line"
    STRUCTURED = "structured"
    UNREADABLE = "unreadable"  # a line whose bytes are no JSON object
    UNKNOWN = "unknown"  # a JSON object of no known shape, or a request where an answer was expected
    GENERATED = "generated"  # one sentence of a generation answer


def _is_request(data: dict[str, Any]) -> bool:
    return "custom_id" in data and "body" in data and ("method" in data or "url" in data)


def _is_batch_output(data: dict[str, Any]) -> bool:
    return "custom_id" in data and ("response" in data or "error" in data)


def _is_structured(data: dict[str, Any]) -> bool:
    return "entities" in data and ("tokens" in data or "text" in data)


def _is_per_line(data: dict[str, Any]) -> bool:
    return "response" in data and ("tokens" in data or "text" in data)


# The shapes a line can be, tried in this order (a structured record may carry a response too).
DETECTORS: dict[Shape, Callable[[dict[str, Any]], bool]] = {
    Shape.REQUEST: _is_request,
    Shape.BATCH_OUTPUT: _is_batch_output,
    Shape.STRUCTURED: _is_structured,
    Shape.PER_LINE: _is_per_line,
}


def shape_of(data: dict[str, Any]) -> Shape | None:
    """The shape of a parsed line, or None when it is none of the known ones."""
    return next((shape for shape, detect in DETECTORS.items() if detect(data)), None)


def readable_id(data: dict[str, Any]) -> str | None:
    """The id a line of any shape names, where it has one: its ``custom_id``, else its ``id``."""
    for name in ("custom_id", "id"):
        value = data.get(name)
        if isinstance(value, str) and value.strip():
            return value
        if isinstance(value, int) and not isinstance(value, bool):
            return str(value)
    return None


class RecordProblem(Exception):
    """A record that cannot be imported; ``reason`` is the rejection reason."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


@dataclass(frozen=True)
class Request:
    """What a Batch request asked: its sentence's tokens, or how many new sentences (``generate``)."""

    custom_id: str
    tokens: tuple[str, ...]
    model: str | None
    path: str
    line: int
    raw: str
    generate: int | None = None


def last_user_message(data: dict[str, Any]) -> str | None:
    """The text of a request line's last user message, None when it has none.

    Raises:
        RecordProblem: ``body.messages`` is not a list.
    """
    body = data.get("body")
    messages = body.get("messages") if isinstance(body, dict) else None
    if not isinstance(messages, list):
        raise RecordProblem(RejectReason.WRONG_SHAPE, "body.messages is not a list")
    texts = [
        message["content"]
        for message in messages
        if isinstance(message, dict)
        and message.get("role") == "user"
        and isinstance(message.get("content"), str)
    ]
    return texts[-1] if texts else None


def read_request(data: dict[str, Any], path: str, line: int, raw: str) -> Request:
    """The sentence of a request line (the text after ``Sentence: `` in its last user message), or
    the number of sentences a generation request asks for (its ``Generate: N sentences`` line).

    Raises:
        RecordProblem: no custom_id, or neither a sentence nor a generation line in the messages.
    """
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise RecordProblem(RejectReason.MISSING_CUSTOM_ID, "custom_id is missing or not a string")
    body = data.get("body")
    prompt = last_user_message(data)
    model = body.get("model") if isinstance(body, dict) else None
    model = model if isinstance(model, str) else None
    if prompt is not None and (count := _GENERATION_COUNT.search(prompt)) is not None:
        if int(count.group(1)) < 1:
            raise RecordProblem(RejectReason.WRONG_SHAPE, "the generation request asks for no sentences")
        return Request(custom_id, (), model, path, line, raw, generate=int(count.group(1)))
    if prompt is None or SENTENCE_PREFIX not in prompt:
        raise RecordProblem(
            RejectReason.WRONG_SHAPE,
            f"the last user message has no {SENTENCE_PREFIX!r} line and no {GENERATION_PREFIX!r} line",
        )
    sentence = prompt.rsplit(SENTENCE_PREFIX, 1)[1].split("\n", 1)[0]
    tokens = tuple(sentence.split())
    if not tokens:
        raise RecordProblem(RejectReason.EMPTY_SENTENCE, "the request's sentence has no tokens")
    return Request(custom_id, tokens, model, path, line, raw)


@dataclass(frozen=True)
class Answer:
    """An answer in common form: the teacher's text to parse, or entities already structured."""

    text: str | None
    entities: Any = None
    teacher: str | None = None


def read_batch_output(data: dict[str, Any]) -> Answer:
    """The answer text of a Batch output line.

    Raises:
        RecordProblem: ``failed_request`` (an error or non-200 status), ``truncated``
            (``finish_reason: length``) or ``wrong_shape``.
    """
    error = data.get("error")
    response = data.get("response")
    if error:
        raise RecordProblem(RejectReason.FAILED_REQUEST, _describe_error(error))
    if not isinstance(response, dict):
        raise RecordProblem(
            RejectReason.FAILED_REQUEST if error is not None else RejectReason.WRONG_SHAPE,
            "no response object",
        )
    status = response.get("status_code")
    body = response.get("body")
    if status != 200:
        detail = _describe_error(body.get("error") if isinstance(body, dict) else None)
        raise RecordProblem(RejectReason.FAILED_REQUEST, f"status {status}: {detail}")
    if not isinstance(body, dict):
        raise RecordProblem(RejectReason.WRONG_SHAPE, "response.body is not an object")
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise RecordProblem(RejectReason.WRONG_SHAPE, "response.body.choices is empty or missing")
    choice = choices[0]
    if choice.get("finish_reason") == "length":
        raise RecordProblem(RejectReason.TRUNCATED, "finish_reason is 'length': the answer was cut off")
    message = choice.get("message")
    content = message.get("content") if isinstance(message, dict) else None
    if not isinstance(content, str):
        raise RecordProblem(RejectReason.WRONG_SHAPE, "choices[0].message.content is not a string")
    model = body.get("model")
    return Answer(content, teacher=model if isinstance(model, str) else None)


def read_id(data: dict[str, Any]) -> str:
    """The ``id`` of a per-line or structured record.

    Raises:
        RecordProblem: a missing or empty id.
    """
    value = data.get("id")
    if isinstance(value, int) and not isinstance(value, bool):
        return str(value)
    if not isinstance(value, str) or not value.strip():
        raise RecordProblem(RejectReason.MISSING_ID, "the record has no 'id'")
    return value


def read_tokens(data: dict[str, Any]) -> tuple[str, ...]:
    """The sentence of a per-line or structured record: its ``tokens``, or its ``text`` tokenised.

    Raises:
        RecordProblem: tokens that are not a list of non-blank strings, or an empty sentence.
    """
    if "tokens" in data:
        tokens = data["tokens"]
        if not isinstance(tokens, list) or not all(
            isinstance(token, str) and token.strip() and token.split() == [token] for token in tokens
        ):
            raise RecordProblem(RejectReason.WRONG_SHAPE, "'tokens' is not a list of strings without spaces")
        result = tuple(tokens)
    else:
        text = data.get("text")
        if not isinstance(text, str):
            raise RecordProblem(RejectReason.WRONG_SHAPE, "'text' is not a string")
        result = tuple(tokenize_words(text))
    if not result:
        raise RecordProblem(RejectReason.EMPTY_SENTENCE, "the sentence has no tokens")
    return result


def read_per_line(data: dict[str, Any]) -> Answer:
    """The answer of a per-line export record.

    Raises:
        RecordProblem: ``truncated`` or ``wrong_shape``.
    """
    if data.get("finish_reason") == "length":
        raise RecordProblem(RejectReason.TRUNCATED, "finish_reason is 'length': the answer was cut off")
    response = data.get("response")
    if not isinstance(response, str):
        raise RecordProblem(RejectReason.WRONG_SHAPE, "'response' is not a string")
    teacher = data.get("model")
    return Answer(response, teacher=teacher if isinstance(teacher, str) else None)


def read_structured(data: dict[str, Any]) -> Answer:
    """The entities of a structured record (checked later, like a parsed answer)."""
    teacher = data.get("teacher", data.get("model"))
    return Answer(None, entities=data.get("entities"), teacher=teacher if isinstance(teacher, str) else None)


def read_custom_id(data: dict[str, Any]) -> str:
    """The ``custom_id`` of a Batch output line.

    Raises:
        RecordProblem: a missing or empty custom_id.
    """
    custom_id = data.get("custom_id")
    if not isinstance(custom_id, str) or not custom_id:
        raise RecordProblem(RejectReason.MISSING_CUSTOM_ID, "custom_id is missing or not a string")
    return custom_id


@dataclass(frozen=True)
class AnswerReader:
    """How one shape of answer line is read: the id it names, then its sentence and answer.

    ``answers_request``: the id names a Batch request, which holds the sentence (``read`` gets it).
    """

    identify: Callable[[dict[str, Any]], str]
    read: Callable[[dict[str, Any], Request | None], tuple[tuple[str, ...], Answer]]
    answers_request: bool = False


def _read_batch_answer(data: dict[str, Any], request: Request | None) -> tuple[tuple[str, ...], Answer]:
    assert request is not None
    answer = read_batch_output(data)
    if answer.teacher is None:
        answer = Answer(answer.text, teacher=request.model)
    return request.tokens, answer


def _read_own_sentence(
    read_answer: Callable[[dict[str, Any]], Answer],
) -> Callable[[dict[str, Any], Request | None], tuple[tuple[str, ...], Answer]]:
    def read(data: dict[str, Any], _request: Request | None) -> tuple[tuple[str, ...], Answer]:
        answer = read_answer(data)  # the answer's problem is the one to report when both are wrong
        return read_tokens(data), answer

    return read


# The answer shapes an import reads, by name (``request`` lines are the questions, read apart).
ANSWER_READERS: dict[Shape, AnswerReader] = {
    Shape.BATCH_OUTPUT: AnswerReader(read_custom_id, _read_batch_answer, answers_request=True),
    Shape.PER_LINE: AnswerReader(read_id, _read_own_sentence(read_per_line)),
    Shape.STRUCTURED: AnswerReader(read_id, _read_own_sentence(read_structured)),
}


def _describe_error(error: Any) -> str:
    if isinstance(error, dict):
        parts = [str(error[key]) for key in ("code", "message") if error.get(key)]
        return ": ".join(parts) or "error without message"
    return str(error) if error else "no error message"
