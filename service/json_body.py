"""Request bodies parsed as strict JSON: UTF-8, no NaN or Infinity, no number too large for a float or an
int, no lone surrogate in any string, no key twice in one object.

Python's json module takes all of these, and each then fails later, deep in a route, as a 500 (a lone
surrogate cannot be encoded for the tokenizer; NaN is no text at all), and a repeated key silently keeps
its last value (RFC 8259 leaves it open; two parsers may read two different requests). Refused here, they
are a 400
that says what and where, before any route sees them. The routes get this through their route class,
FastAPI's documented way to change how a request is read.
"""

from __future__ import annotations

import json
from collections.abc import Callable, Coroutine
from typing import Any

from fastapi import HTTPException, Request, Response, status
from fastapi.routing import APIRoute

from nerd.json_files import lone_surrogate


class BodyRefused(HTTPException):
    """A body that is not strict JSON: always a 400 with one sentence."""

    def __init__(self, detail: str) -> None:
        super().__init__(status.HTTP_400_BAD_REQUEST, detail=detail)


def _no_constant(name: str) -> Any:
    raise BodyRefused(f"{name} is not a JSON number: the body must be strict JSON")


def _finite_float(text: str) -> float:
    value = float(text)
    if value in (float("inf"), float("-inf")):
        raise BodyRefused(f"the number {text[:40]} is too large for a float")
    return value


def _unique_keys(pairs: list[tuple[str, Any]]) -> dict[str, Any]:
    value: dict[str, Any] = {}
    for key, item in pairs:
        if key in value:
            shown = key if len(key) <= 80 else key[:80] + "..."
            raise BodyRefused(f"the key {shown!r} appears twice in one object: the body must be strict JSON")
        value[key] = item
    return value


def parse_strict_json(body: bytes) -> Any:
    """The value of a UTF-8 JSON body.

    Raises:
        BodyRefused: not UTF-8, NaN/Infinity, a float out of range, an integer of 4,300+ digits, a lone
            surrogate in a string (with where it is), nesting too deep, a key twice in one object.
        json.JSONDecodeError: not JSON at all (FastAPI answers it with its usual 422).
    """
    try:
        text = body.decode("utf-8")
    except UnicodeDecodeError as error:
        raise BodyRefused(f"the body is not UTF-8: byte {error.start} ({error.reason})") from None
    try:
        value = json.loads(
            text, parse_constant=_no_constant, parse_float=_finite_float, object_pairs_hook=_unique_keys
        )
    except json.JSONDecodeError:
        raise
    except RecursionError:
        raise BodyRefused("the body is nested too deeply") from None
    except ValueError as error:  # an integer of more than 4,300 digits
        raise BodyRefused(f"the body is not usable JSON: {str(error).split(';')[0]}") from None
    surrogate = lone_surrogate(value, "body")
    if surrogate is not None:
        raise BodyRefused(f"{surrogate}, not text")
    return value


class StrictJSONRequest(Request):
    """A request whose ``json()`` is :func:`parse_strict_json`."""

    async def json(self) -> Any:
        if not hasattr(self, "_json"):
            self._json = parse_strict_json(await self.body())
        return self._json


class StrictJSONRoute(APIRoute):
    """Routes that read their JSON body strictly (``APIRouter(route_class=StrictJSONRoute)``)."""

    def get_route_handler(self) -> Callable[[Request], Coroutine[Any, Any, Response]]:
        handler = super().get_route_handler()

        async def strict_handler(request: Request) -> Response:
            return await handler(StrictJSONRequest(request.scope, request.receive))

        return strict_handler
