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
