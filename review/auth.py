"""Who is asking: FastAPI dependencies that find the person behind a request.

In this order: a personal API token (``Authorization: Bearer ...``), the session cookie set at login,
the user header of a listed reverse proxy (single sign-on), and, only for a database that has no users
yet served on loopback, the one person of an open review. The reviewer is always this identity, never
a name in the request.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from nerd.review.errors import AccessDenied, NotSignedIn
from nerd.review.settings import ReviewSettings
from nerd.review.store import ReviewStore
from nerd.review.users import Role, proxy_user, user_by_id, user_by_token


@dataclass(frozen=True)
class Identity:
    name: str
    role: Role
    how: str  # "session", "token", "proxy" or "open"

    @property
    def adjudicator(self) -> bool:
        return self.role is Role.adjudicator


def store_of(request: Request) -> ReviewStore:
    return request.app.state.store


def settings_of(request: Request) -> ReviewSettings:
    return request.app.state.settings


async def open_review(request: Request) -> bool:
    """Whether the review is open to one person without a login: served on loopback, and no user
    added yet (once one is, that is so for good: the answer is not asked again)."""
    state = request.app.state
    if state.has_users or not state.settings.loopback:
        return False
    state.has_users = await run_in_threadpool(state.store.has_users)
    return not state.has_users


async def who_is_asking(request: Request) -> Identity | None:
    store = store_of(request)
    settings = settings_of(request)
    authorization = request.headers.get("authorization", "")
    if authorization[:7].lower() == "bearer ":
        user = await run_in_threadpool(user_by_token, store, authorization[7:].strip())
        if user is None:
            raise NotSignedIn("that API token is not valid (or its user is disabled)")
        return Identity(user.name, user.role, "token")
    user_id = request.session.get("user")
    if isinstance(user_id, int):
        user = await run_in_threadpool(user_by_id, store, user_id)
        if user is not None:
            return Identity(user.name, user.role, "session")
        request.session.clear()
    client = request.client.host if request.client else None
    if settings.trusted_proxies and client in settings.trusted_proxies:
        named = request.headers.get(settings.user_header)
        if named:
            user = await run_in_threadpool(proxy_user, store, named)
            if user is None:
                raise AccessDenied("the user the proxy names is disabled or not a valid name")
            return Identity(user.name, user.role, "proxy")
    if await open_review(request):
        return Identity(settings.open_reviewer, Role.adjudicator, "open")
    return None


async def identity(request: Request) -> Identity:
    """The person asking; 401 when no one signed in."""
    found = await who_is_asking(request)
    if found is None:
        raise NotSignedIn("sign in first (POST /api/login, or an API token: Authorization: Bearer ...)")
    return found


async def adjudicator(person: Annotated[Identity, Depends(identity)]) -> Identity:
    """The person asking, who must be an adjudicator; 403 otherwise."""
    if not person.adjudicator:
        raise AccessDenied(f"{person.name} is a reviewer: this needs an adjudicator")
    return person


Person = Annotated[Identity, Depends(identity)]
Adjudicator = Annotated[Identity, Depends(adjudicator)]
Store = Annotated[ReviewStore, Depends(store_of)]
Settings = Annotated[ReviewSettings, Depends(settings_of)]
