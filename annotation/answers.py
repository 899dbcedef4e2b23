"""Finding the entity dictionary at the end of a teacher's answer.

A chain-of-thought answer reasons first and gives the result last, in one of many shapes: a JSON
object, a Python literal dict, inside a code fence, after "Result:" or "Final answer:", indented over
several lines. Python literals go through ``ast.literal_eval`` only: nothing in an answer is executed.

>>> extract_entities("3. Types: Paris is LOC.\\nResult: {'LOC': ['Paris'], 'PER': []}")
{'LOC': ['Paris'], 'PER': []}
"""

from __future__ import annotations

import ast
import json
import re
import warnings
from collections.abc import Iterator
from typing import Any

from nerd.annotation.reject_reasons import RejectReason
from nerd.errors import NerdError
from nerd.labels import LabelSet

# Longer answers than this are not parsed: no honest entity dict needs it, and literal_eval on huge
# nested input can exhaust the stack.
MAX_ANSWER_CHARS = 200_000

# Where the result starts after the reasoning, and a fenced code block; generation answers use both too.
RESULT_MARKER = re.compile(r"(?:final\s+answer|final\s+result|result|answer|output)\s*:", re.IGNORECASE)
CODE_FENCE = re.compile(r"```[a-zA-Z0-9_-]*[ \t]*\n?(.*?)```", re.DOTALL)


class AnswerError(NerdError):
    """An answer without a usable entity dictionary; ``reason`` is the rejection reason."""

    def __init__(self, reason: RejectReason, detail: str) -> None:
        self.reason = reason
        self.detail = detail
        super().__init__(f"{reason}: {detail}")


def extract_entities(answer: str, labels: LabelSet | None = None) -> dict[str, list[str]]:
    """The final ``{type: [entity strings]}`` dict of an answer (``labels``: see
    :func:`check_entities_shape`).

    Raises:
        AnswerError: ``no_answer_dict`` when the answer holds no dictionary, ``malformed_dict`` when
            the last one does not parse, ``wrong_shape`` when it is not a map of strings to strings.
    """
    if len(answer) > MAX_ANSWER_CHARS:
        raise AnswerError(
            RejectReason.MALFORMED_DICT, f"answer of {len(answer)} characters is too long to parse"
        )
    candidate = _last_candidate(answer)
    if candidate is None:
        raise AnswerError(RejectReason.NO_ANSWER_DICT, "no '{' in the answer")
    value = _parse_literal(candidate)
    return check_entities_shape(value, labels)


def _last_candidate(answer: str) -> str | None:
    """The text that should hold the final dict: after the last marker, else in the last fence, else
    from the last top-level ``{``."""
    markers = list(RESULT_MARKER.finditer(answer))
    region = answer[markers[-1].end() :] if markers else answer
    fences = CODE_FENCE.findall(region)
    if fences:
        region = fences[-1]
    elif "```" in region:
        # An opened fence that never closed: the answer was cut off inside it.
        region = region.split("```", 1)[1]
        region = region.split("\n", 1)[1] if "\n" in region else ""
    start = _outermost_open_brace(region)
    if start is None:
        return None
    return region[start:].strip().rstrip("`").strip()


def bracket_structure(
    text: str, *, quotes_outside_braces: bool, brackets: str = "{}"
) -> Iterator[tuple[int, str, int]]:
    """(index, bracket, depth after it) for every bracket of the pair ``brackets`` outside string
    literals.

    Outside brackets, prose apostrophes ("Let's") are not string delimiters unless asked for.
    """
    opening, closing = brackets
    depth = 0
    quote: str | None = None
    escaped = False
    for index, char in enumerate(text):
        if quote is not None:
            if escaped:
                escaped = False
            elif char == "\\":
                escaped = True
            elif char == quote:
                quote = None
        elif char in "\"'" and (depth > 0 or quotes_outside_braces):
            quote = char
        elif char == opening:
            depth += 1
            yield index, char, depth
        elif char == closing and depth > 0:
            depth -= 1
            yield index, char, depth


def _outermost_open_brace(text: str) -> int | None:
    """Index of the ``{`` that opens the last top-level brace group."""
    last_open: int | None = None
    for index, brace, depth in bracket_structure(text, quotes_outside_braces=False):
        if brace == "{" and depth == 1:
            last_open = index
    return last_open


def _parse_literal(candidate: str) -> Any:
    end = matching_close(candidate)
    if end is None:
        raise AnswerError(RejectReason.MALFORMED_DICT, f"unbalanced braces in {_preview(candidate)}")
    text = candidate[: end + 1]
    try:
        return json.loads(text)
    except (ValueError, RecursionError):  # ValueError: also an integer of more than 4,300 digits
        pass
    try:
        with warnings.catch_warnings():
            # An answer like "{'a': '\\{'}" makes the compiler warn about escapes; the answer is data.
            warnings.simplefilter("ignore")
            return ast.literal_eval(text)
    except (ValueError, SyntaxError, TypeError, MemoryError, RecursionError) as error:
        raise AnswerError(
            RejectReason.MALFORMED_DICT, f"{type(error).__name__} in {_preview(text)}"
        ) from None


def matching_close(text: str, brackets: str = "{}") -> int | None:
    """Index of the bracket that closes the group opening ``text``, or None when it never closes."""
    for index, bracket, depth in bracket_structure(text, quotes_outside_braces=True, brackets=brackets):
        if bracket == brackets[1] and depth == 0:
            return index
    return None


def check_entities_shape(value: Any, labels: LabelSet | None = None) -> dict[str, list[str]]:
    """The answer's dict as ``{type: [strings]}``.

    Beside at least one known type, a type that is none of ``labels`` (a small model's invention:
    ``"LOSER": [1, 29]``) may hold anything: its values are kept as text, and the labelling reports and
    drops them as ``unknown_label``, so that one junk key does not cost the sentence its real entities.
    Otherwise (a known type, no known type at all, or no ``labels``) anything but strings rejects the
    answer.

    >>> check_entities_shape({"PER": ["Ann"], "LOSER": [1, 29]}, LabelSet.conll())
    {'PER': ['Ann'], 'LOSER': ['1', '29']}
    """
    if not isinstance(value, dict):
        raise AnswerError(
            RejectReason.WRONG_SHAPE, f"expected a dict of type -> strings, got {type(value).__name__}"
        )
    entities: dict[str, list[str]] = {}
    lenient = labels is not None and any(isinstance(k, str) and labels.canonical(k) for k in value)
    for label, strings in value.items():
        if not isinstance(label, str):
            raise AnswerError(RejectReason.WRONG_SHAPE, f"type {label!r} is not a string")
        if strings is None:
            strings = []
        elif isinstance(strings, str):
            strings = [strings]
        unknown = lenient and labels is not None and labels.canonical(label) is None
        if unknown and not isinstance(strings, list | tuple | set):
            strings = [strings]
        if unknown:
            strings = [item if isinstance(item, str) else repr(item) for item in strings]
        if not isinstance(strings, list | tuple | set) or not all(isinstance(s, str) for s in strings):
            raise AnswerError(RejectReason.WRONG_SHAPE, f"entities of {label!r} are not a list of strings")
        entities[label] = list(strings)
    return entities


def _preview(text: str, limit: int = 60) -> str:
    flat = " ".join(text.split())
    return repr(flat if len(flat) <= limit else flat[:limit] + "...")
