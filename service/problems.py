"""What can go wrong in a request, as exceptions a route raises, and the one handler that answers each.

Routes and dependencies raise these; ``create_app`` registers :func:`register_problem_handlers`, which
turns each into its status and a ``Problem`` body (``{"detail": ...}``), as the FastAPI full-stack
template and infinity do. No route builds an error response of its own.
"""

from __future__ import annotations

from typing import ClassVar

from fastapi import FastAPI, Request
from fastapi.responses import JSONResponse

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


async def _problem(request: Request, error: Exception) -> JSONResponse:
    assert isinstance(error, ServiceProblem)
    return JSONResponse(
        {"detail": error.detail}, status_code=error.status_code, headers=error.headers or None
    )


async def _not_ready(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": str(error) or "not ready"}, status_code=503)


async def _overloaded(request: Request, error: Exception) -> JSONResponse:
    return JSONResponse({"detail": "server busy: queue full"}, status_code=503, headers={"Retry-After": "1"})


def register_problem_handlers(app: FastAPI) -> None:
    """One handler per error type: the service's own problems, no model (yet), a full queue."""
    app.add_exception_handler(ServiceProblem, _problem)
    app.add_exception_handler(NotReady, _not_ready)
    app.add_exception_handler(Overloaded, _overloaded)
