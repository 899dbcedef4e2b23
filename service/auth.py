"""Who may call what: inference keys for ``/v1``, admin keys for ``/v1/admin``, checked before the body
is read (so an unauthenticated caller learns nothing from how its body would have been judged)."""

from __future__ import annotations

import json
from dataclasses import dataclass
from typing import Any

from fastapi.security import HTTPBearer

from nerd.service.settings import key_matches

# For the OpenAPI schema: the routes declare these schemes; KeyGuard enforces them.
api_bearer = HTTPBearer(
    scheme_name="ApiKey", auto_error=False, description="an inference key, when the server has keys"
)
admin_bearer = HTTPBearer(scheme_name="AdminKey", auto_error=False, description="an admin key")
ADMIN_PREFIX = "/v1/admin"


@dataclass(frozen=True)
class Refusal:
    status: int
    detail: str


def refusal(path: str, authorization: str, api_keys: list[bytes], admin_keys: list[bytes]) -> Refusal | None:
    """Why a request to ``path`` with this Authorization header is refused, or None when it may pass.

    >>> refusal("/v1/entities", "", [], []) is None
    True
    >>> refusal("/v1/entities", "Bearer nope", [b"k"], []).status
    401
    >>> refusal("/v1/admin/reload", "Bearer k", [b"k"], []).status
    403
    >>> refusal("/healthz", "", [b"k"], [b"a"]) is None
    True
    """
    scheme, _, presented = authorization.partition(" ")
    bearer = presented.strip() if scheme.lower() == "bearer" else None
    if path == ADMIN_PREFIX or path.startswith(ADMIN_PREFIX + "/"):
        if not admin_keys:
            return Refusal(
                403, "the admin routes are off: configure admin keys (--admin-key-file, NERD_ADMIN_KEYS)"
            )
        if bearer is None or not key_matches(bearer, admin_keys):
            return Refusal(401, "missing or wrong admin key (Authorization: Bearer <admin key>)")
        return None
    if path.startswith("/v1/") and api_keys and (bearer is None or not key_matches(bearer, api_keys)):
        return Refusal(401, "missing or wrong API key (Authorization: Bearer <key>)")
    return None


class KeyGuard:
    """ASGI middleware: refuses a request by its path and Authorization header alone."""

    def __init__(self, app: Any, api_keys: list[bytes], admin_keys: list[bytes]) -> None:
        self.app = app
        self.api_keys = api_keys
        self.admin_keys = admin_keys

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = dict(scope["headers"])
        authorization = headers.get(b"authorization", b"").decode("latin-1")
        refused = refusal(scope["path"], authorization, self.api_keys, self.admin_keys)
        if refused is None:
            await self.app(scope, receive, send)
            return
        payload = json.dumps({"detail": refused.detail}).encode()
        response_headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(payload)).encode()),
        ]
        if refused.status == 401:
            response_headers.append((b"www-authenticate", b"Bearer"))
        await send({"type": "http.response.start", "status": refused.status, "headers": response_headers})
        await send({"type": "http.response.body", "body": payload})
