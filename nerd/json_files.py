"""Reading a JSON file that nerd wrote earlier (a report, a round, a training card), with a clear error."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nerd.errors import InputError


def json_error_text(error: json.JSONDecodeError) -> str:
    r"""What is wrong and at which column, as one sentence.

    Some of the json module's messages end in "at" and expect the position to follow:

    >>> try:
    ...     json.loads('{"a": "\x01"}')
    ... except json.JSONDecodeError as error:
    ...     print(json_error_text(error))
    Invalid control character at column 8
    """
    return f"{error.msg.removesuffix(' at')} at column {error.colno}"


def read_json(path: Path, *, missing: str | None = None) -> Any:
    """The parsed content of ``path``.

    Raises:
        InputError: the file is missing (``missing`` says what that means, when given), unreadable, not
            UTF-8, or not JSON (with the line).
    """
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise InputError(missing or "no such file", path=path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read: {error}", path=path) from None
    try:
        return json.loads(text)
    except json.JSONDecodeError as error:
        raise InputError(f"not JSON: {json_error_text(error)}", path=path, line=error.lineno) from None
    except RecursionError:
        raise InputError("not JSON: nested too deeply", path=path) from None
    except ValueError as error:  # an integer of more than 4,300 digits
        raise InputError(f"not JSON: {str(error).split(';')[0]}", path=path) from None


def lone_surrogate(value: Any, where: str = "") -> str | None:
    r"""Where a string (or key) of a parsed JSON value holds a lone surrogate, else None.

    ``"\ud800"`` is valid JSON and decodes to a string no UTF-8 writer can encode: whatever reads outside
    JSON (the import's lines, the service's bodies) refuses such a value, naming the field.

    >>> print(lone_surrogate({"a": ["ok", "x\ud800"]}))
    a[1]: a lone surrogate \ud800 at character 1
    >>> lone_surrogate({"a": "fine"}) is None
    True
    """
    stack: list[tuple[Any, str]] = [(value, where)]
    while stack:
        item, place = stack.pop()
        if isinstance(item, str):
            try:
                item.encode("utf-8")
            except UnicodeEncodeError as error:
                code, at = ord(item[error.start]), error.start
                return f"{(place or 'value')[:200]}: a lone surrogate \\u{code:04x} at character {at}"
        elif isinstance(item, list):
            stack.extend((element, f"{place}[{index}]") for index, element in enumerate(item))
        elif isinstance(item, dict):
            for key, element in item.items():
                stack.append((key, f"{place} (a key)" if place else "(a key)"))
                stack.append((element, f"{place}.{key}" if place else str(key)))
    return None
