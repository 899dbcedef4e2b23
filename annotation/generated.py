"""Reading the new sentences a teacher wrote for a generation request (``nerd evolve plan``).

The answer reasons first (the weakness analysis), then ends with ``Result:`` and a JSON list, one
object per sentence: ``{"text": "...", "entities": {"PER": ["..."], ...}, "difficulty": "hard"}``.
As with annotation answers, a Python literal list is read with ``ast.literal_eval`` only.

>>> extract_generated('Analysis: misses ORG.\\nResult: [{"text": "Acme rose.", "entities": {}}]')
[{'text': 'Acme rose.', 'entities': {}}]
"""

from __future__ import annotations

import ast
import json
import warnings
from dataclasses import dataclass
from typing import Any

from nerd.annotation.answers import (
    CODE_FENCE,
    MAX_ANSWER_CHARS,
    RESULT_MARKER,
    AnswerError,
    check_entities_shape,
    matching_close,
)
from nerd.annotation.record_shapes import RecordProblem
from nerd.annotation.reject_reasons import RejectReason

# One generated sentence longer than this is not a sentence.
MAX_GENERATED_CHARS = 2_000
DIFFICULTIES = ("easy", "hard")


@dataclass(frozen=True)
class GeneratedSentence:
    """One sentence a teacher wrote, with the entities it says the sentence holds."""

    text: str
    entities: dict[str, list[str]]
    difficulty: str | None


def extract_generated(answer: str) -> list[Any]:
    """The final list of generated sentences in an answer (items not yet checked).

    Raises:
        AnswerError: ``no_generated_list`` when no result marker is followed by a list,
            ``malformed_list`` when the list does not parse.
    """
    return split_generation_answer(answer)[1]


def split_generation_answer(answer: str) -> tuple[str, list[Any]]:
    """(the analysis before the result, the result list) of a generation answer.

    Markers are tried from the last: the result is the list after a ``Result:`` that runs to the end
    of the answer. A generated sentence may itself contain "Result: [...]", whose list stops short
    of the end; such a list is taken only when no marker gives one that runs to the end.

    Raises:
        AnswerError: as :func:`extract_generated`.
    """
    if len(answer) > MAX_ANSWER_CHARS:
        raise AnswerError(
            RejectReason.MALFORMED_LIST, f"answer of {len(answer)} characters is too long to parse"
        )
    starts = [(match.start(), match.end()) for match in reversed(list(RESULT_MARKER.finditer(answer)))]
    fallback: tuple[str, list[Any]] | None = None
    first_problem: AnswerError | None = None
    for before, after in [*starts, (0, 0)]:
        try:
            found, to_the_end = _list_in(answer[after:])
        except AnswerError as problem:
            first_problem = first_problem or problem
            continue
        if to_the_end:
            return answer[:before].strip(), found
        fallback = fallback or (answer[:before].strip(), found)
    if fallback is not None:
        return fallback
    assert first_problem is not None
    raise first_problem


def _list_in(region: str) -> tuple[list[Any], bool]:
    """The list that opens at the first ``[`` of ``region`` (inside its last code fence, if any), and
    whether nothing but closing punctuation follows it."""
    fences = CODE_FENCE.findall(region)
    if fences:
        region = fences[-1]
    start = region.find("[")
    if start < 0:
        raise AnswerError(RejectReason.NO_GENERATED_LIST, "no '[' after the last 'Result:' of the answer")
    text = region[start:]
    try:
        value, end = json.JSONDecoder().raw_decode(text)
    except (json.JSONDecodeError, RecursionError):
        value, end = _python_literal(text)
    if not isinstance(value, list):
        raise AnswerError(
            RejectReason.MALFORMED_LIST, f"expected a list of sentences, got {type(value).__name__}"
        )
    if value and not any(isinstance(item, dict) for item in value):
        # A list inside a sentence ("Result: [1, 2]"), not the list of sentences.
        raise AnswerError(RejectReason.MALFORMED_LIST, "the list after 'Result:' holds no sentence objects")
    return value, not text[end:].strip(" \t\r\n`.")


def _python_literal(text: str) -> tuple[Any, int]:
    end = matching_close(text, "[]")
    if end is None:
        raise AnswerError(
            RejectReason.MALFORMED_LIST, "the list never closes: the answer was probably cut off"
        )
    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            return ast.literal_eval(text[: end + 1]), end + 1
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as error:
        raise AnswerError(RejectReason.MALFORMED_LIST, f"{type(error).__name__} in the result list") from None


def analysis_of(answer: str, limit: int = 4_000) -> str:
    """The reasoning before the final result: the teacher's analysis of the student's weaknesses
    (empty when the answer holds no result list)."""
    try:
        text = split_generation_answer(answer)[0]
    except AnswerError:
        return ""
    return text if len(text) <= limit else text[:limit].rstrip() + " ..."


def read_generated(item: Any) -> GeneratedSentence:
    """Check one item of the list.

    Raises:
        RecordProblem: ``wrong_shape`` (not an object, no text, entities not a type -> strings map,
            unknown difficulty) or ``empty_sentence``.
    """
    if not isinstance(item, dict):
        raise RecordProblem(
            RejectReason.WRONG_SHAPE, f"a generated sentence is a {type(item).__name__}, not an object"
        )
    text = item.get("text", item.get("sentence"))
    if not isinstance(text, str):
        raise RecordProblem(RejectReason.WRONG_SHAPE, "the generated sentence has no 'text' string")
    if not text.strip():
        raise RecordProblem(RejectReason.EMPTY_SENTENCE, "the generated sentence is blank")
    if len(text) > MAX_GENERATED_CHARS:
        raise RecordProblem(
            RejectReason.WRONG_SHAPE,
            f"the generated text has {len(text)} characters, over {MAX_GENERATED_CHARS}",
        )
    try:
        entities = check_entities_shape(item.get("entities"))
    except AnswerError as problem:
        raise RecordProblem(RejectReason.WRONG_SHAPE, f"entities: {problem.detail}") from None
    difficulty = item.get("difficulty")
    if difficulty is not None and (not isinstance(difficulty, str) or difficulty.lower() not in DIFFICULTIES):
        raise RecordProblem(
            RejectReason.WRONG_SHAPE, f"difficulty {difficulty!r} is not one of {', '.join(DIFFICULTIES)}"
        )
    return GeneratedSentence(text, entities, difficulty.lower() if isinstance(difficulty, str) else None)
