"""The review web app: ``create_review_app(store, settings)``, as ``nerd review serve`` runs it.

Outermost first: the body limit (413/408 before anything reads a body), the security headers and the
origin check on writes, the allowed Host names, the signed session cookie, then the routes.
"""

from __future__ import annotations

import contextlib
from collections.abc import AsyncIterator

from fastapi import FastAPI
from starlette.middleware.sessions import SessionMiddleware
from starlette.middleware.trustedhost import TrustedHostMiddleware

from nerd import __version__
from nerd.review.api import api
from nerd.review.pages import pages
from nerd.review.problems import register_problem_handlers
from nerd.review.security import SecurityHeaders
from nerd.review.settings import ReviewSettings
from nerd.review.store import ReviewStore
from nerd.service.body_limit import BodyLimit


def create_review_app(store: ReviewStore, settings: ReviewSettings | None = None) -> FastAPI:
    """The app over one review database.

    Raises:
        ReviewStoreError: not a review database (or an outdated or unreachable one).
    """
    settings = settings or ReviewSettings()
    project = store.open_for_serving()  # fails here, before serving, on a database that is not one

    @contextlib.asynccontextmanager
    async def lifespan(_: FastAPI) -> AsyncIterator[None]:
        yield
        # On SIGTERM (uvicorn's graceful stop) or Ctrl-C: the WAL folded into the .db file, so a copy
        # of that file alone holds every acknowledged decision.
        with contextlib.suppress(Exception):
            store.checkpoint()
        store.close()

    app = FastAPI(
        title="nerd review",
        version=__version__,
        summary="People correct the teacher and write gold data: sentences, suggestions, decisions.",
        # Swagger UI and ReDoc load their scripts from a CDN, which a closed network cannot reach.
        docs_url=None,
        redoc_url=None,
        lifespan=lifespan,
    )
    app.state.store = store
    app.state.settings = settings
    app.state.has_users = False
    register_problem_handlers(app)
    app.include_router(api)
    app.include_router(pages)
    app.add_middleware(
        SessionMiddleware,
        # The key lives in the database (or a file given): a cookie of one review opens no other.
        secret_key=settings.secret or project.session_key,
        session_cookie="nerd_review",
        max_age=int(settings.session_hours * 3600),
        same_site="strict",
        https_only=settings.tls,
    )
    app.add_middleware(TrustedHostMiddleware, allowed_hosts=settings.hosts())
    app.add_middleware(SecurityHeaders, tls=settings.tls)
    app.add_middleware(
        BodyLimit,
        max_bytes=settings.max_body_bytes,
        timeout=settings.body_timeout_s,
        limit_setting="--max-body-bytes",
        timeout_setting="--body-timeout",
    )
    return app
