"""The review page, its login page, their files, and the health check: the only routes that answer
without a session (the page itself sends a visitor with none to the login page)."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import FileResponse, JSONResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool

from nerd.review.auth import who_is_asking
from nerd.review.errors import NotSignedIn, ReviewStoreError

STATIC = Path(__file__).with_name("static")
# Every file the pages load: ES modules, the style; nothing from elsewhere.
ASSETS = {
    "main.js": "text/javascript",
    "api.js": "text/javascript",
    "spans.js": "text/javascript",
    "actions.js": "text/javascript",
    "draw.js": "text/javascript",
    "panels.js": "text/javascript",
    "login.js": "text/javascript",
    "review.css": "text/css",
}

pages = APIRouter(include_in_schema=False)


@pages.api_route("/", methods=["GET", "HEAD"])
async def index(request: Request) -> Response:
    try:
        person = await who_is_asking(request)
    except NotSignedIn:
        person = None
    if person is None:
        return RedirectResponse("/login", status_code=303)
    return FileResponse(STATIC / "index.html", media_type="text/html")


@pages.api_route("/login", methods=["GET", "HEAD"])
async def login_page() -> FileResponse:
    return FileResponse(STATIC / "login.html", media_type="text/html")


@pages.api_route("/static/{name}", methods=["GET", "HEAD"])
async def asset(name: str) -> Response:
    if name not in ASSETS:
        return JSONResponse({"detail": "no such file"}, status_code=404)
    return FileResponse(STATIC / name, media_type=ASSETS[name])


@pages.api_route("/health", methods=["GET", "HEAD"])
async def health(request: Request) -> JSONResponse:
    """200 while the database answers (for a load balancer or Kubernetes), 503 with why otherwise."""
    try:
        await run_in_threadpool(request.app.state.store.ping)
    except ReviewStoreError as error:
        return JSONResponse({"status": "unavailable", "detail": str(error)}, status_code=503)
    return JSONResponse({"status": "ok"})
