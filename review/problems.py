"""One handler per error type of the review app, each a JSON problem the page can show as a sentence:
refused decisions (404/409/422), missing identity or role (401/403), a database that cannot be used
(503), and validation errors without the request's own input echoed back."""

from __future__ import annotations

from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse

from nerd.review.errors import AccessDenied, DecisionRefused, ReviewStoreError


async def _status_problem(request: Request, error: Exception) -> JSONResponse:
    status = getattr(error, "status_code", 500)
    headers = {"Retry-After": "5"} if status == 503 else None
    return JSONResponse({"detail": str(error)}, status_code=status, headers=headers)


async def _validation(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, RequestValidationError)
    # FastAPI's default answer includes each field's input: a 300 MB body would come back whole.
    errors: list[dict[str, Any]] = [
        {"loc": list(item.get("loc", ())), "msg": item.get("msg", ""), "type": item.get("type", "")}
        for item in error.errors()[:20]
    ]
    first = errors[0] if errors else {"loc": [], "msg": "invalid request"}
    message = f"{_where(first['loc'])}: {first['msg']}" if first["loc"] else first["msg"]
    return JSONResponse({"detail": errors, "message": message}, status_code=422)


def _where(loc: list[Any]) -> str:
    """
    >>> _where(["body", "spans", 0, "end"])
    'spans[0].end'
    """
    text = ""
    for part in loc[1:] if loc and loc[0] in ("body", "query", "path") else loc:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    return text or "the request"


def register_problem_handlers(app: FastAPI) -> None:
    for kind in (DecisionRefused, AccessDenied, ReviewStoreError):
        app.add_exception_handler(kind, _status_problem)
    app.add_exception_handler(RequestValidationError, _validation)
