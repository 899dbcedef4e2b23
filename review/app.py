"""The review web app: ``create_review_app(store, order)``, as ``nerd review serve`` runs it."""

from __future__ import annotations

from fastapi import FastAPI

from nerd import __version__
from nerd.review.api import api, page
from nerd.review.store import Order, ReviewStore
from nerd.service.problems import register_problem_handlers


def create_review_app(store: ReviewStore, order: Order = "given", reviewer: str | None = None) -> FastAPI:
    """The app over one review database. ``reviewer``: the name the page starts with (each reviewer
    may also type their own).

    Raises:
        ReviewStoreError: not a review database, or an unusable one.
    """
    labels = store.labels()  # fails here, before serving, on a database that is not one
    app = FastAPI(
        title="nerd review",
        version=__version__,
        summary="People correct the teacher and write gold data: sentences, suggestions, decisions.",
        # Swagger UI and ReDoc load their scripts from a CDN, which a closed network cannot reach.
        docs_url=None,
        redoc_url=None,
    )
    app.state.store = store
    app.state.order = order
    app.state.labels = labels
    app.state.reviewer = reviewer
    register_problem_handlers(app)
    app.include_router(api)
    app.include_router(page)
    return app
