"""What can go wrong in a request, as exceptions a route raises, and the one handler that answers each.

Routes and dependencies raise these; ``create_app`` registers :func:`register_problem_handlers`, which
turns each into its status and a ``Problem`` body (``{"detail": ...}``), as the FastAPI full-stack
template and infinity do. No route builds an error response of its own.
"""

from __future__ import annotations

import json
from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import Response

from nerd.errors import NerdError
from nerd.service.micro_batcher import Overloaded
from nerd.service.model_holder import NotReady


class ServiceProblem(NerdError):
    """A request the service answers with ``status_code`` and one sentence."""

    status_code: ClassVar[int] = 400
    headers: ClassVar[dict[str, str]] = {}

    def __init__(self, detail: str) -> None:
        self.detail = detail
        super().__init__(detail)


class OverLimit(ServiceProblem):
    """A request over one of the configured limits (texts, characters, sub-tokens), named in the text."""

    status_code = 422


class ReloadForbidden(ServiceProblem):
    """A reload of something that is not a bundle below the models root."""

    status_code = 403


class ReloadRefused(ServiceProblem):
    """A reload whose bundle failed a check; the old model keeps serving."""

    status_code = 409


class NotFound(ServiceProblem):
    status_code = 404


def problem_body(error: Exception) -> tuple[int, bytes, dict[str, str]] | None:
    """The status, JSON body and headers that answer ``error``; None for an error that is not a problem."""
    if isinstance(error, ServiceProblem):
        return error.status_code, _detail(error.detail), error.headers
    if isinstance(error, NotReady):
        return 503, _detail(str(error) or "not ready"), {}
    if isinstance(error, Overloaded):
        return 503, _detail("server busy: queue full"), {"Retry-After": "1"}
    return None


def _detail(detail: str) -> bytes:
    return json.dumps({"detail": detail}, ensure_ascii=False, separators=(",", ":")).encode()


async def _answer(request: Request, error: Exception) -> Response:
    answer = problem_body(error)
    assert answer is not None
    status, payload, headers = answer
    return Response(payload, status_code=status, headers=headers or None, media_type="application/json")


def register_problem_handlers(app: FastAPI) -> None:
    """One handler per error type: the service's own problems, no model (yet), a full queue."""
    for kind in (ServiceProblem, NotReady, Overloaded):
        app.add_exception_handler(kind, _answer)
