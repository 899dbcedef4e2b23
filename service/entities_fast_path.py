"""``POST /v1/entities`` answered in pure ASGI when the request is well formed; FastAPI's route otherwise.

FastAPI's routing, dependency solving and response validation cost about 0.3 ms a request here, a
quarter of what the model takes for one sentence (measured by ``bench/http_ratio.py``). A valid request
needs none of it: this middleware, inside the access log, the key check and the body limit, reads the
body, parses it as strict JSON, validates it with the same pydantic model, calls the same engine and
writes what the route would write. Anything else (another content type, a body that does not parse or
validate, a text over a limit) is handed, body and all, to FastAPI's route, so that every refusal keeps
its one wording and the OpenAPI schema stays the route's.
"""

from __future__ import annotations

from typing import Any

from pydantic import ValidationError

from nerd.service.api import answer_entities, check_limits
from nerd.service.engine import EntityEngine
from nerd.service.json_body import BodyRefused, parse_strict_json
from nerd.service.problems import OverLimit, problem_body
from nerd.service.schemas import EntitiesRequest, EntitiesResponse
from nerd.service.settings import ServiceSettings

PATH = "/v1/entities"


class EntitiesFastPath:
    def __init__(self, app: Any, engine: EntityEngine, settings: ServiceSettings, route: Any) -> None:
        self.app = app
        self.engine = engine
        self.settings = settings
        self.route = route  # FastAPI's route: the access log labels the request with its path

    async def __call__(self, scope: dict[str, Any], receive: Any, send: Any) -> None:
        if not (
            scope["type"] == "http"
            and scope["path"] == PATH
            and scope["method"] == "POST"
            and (b"content-type", b"application/json") in scope["headers"]
        ):
            await self.app(scope, receive, send)
            return
        messages, body = await _read_body(receive)
        if body is None:  # the client went away mid-body: FastAPI's route sees the same events
            await self.app(scope, _replay(messages, receive), send)
            return
        checked = _valid_request(body, self.settings)
        if checked is None:
            await self.app(scope, _replay(messages, receive), send)
            return
        items, request = checked
        scope["route"] = self.route
        try:
            results, model = await answer_entities(request, items, self.engine, self.settings, scope)
        except Exception as error:
            answer = problem_body(error)
            if answer is None:
                raise
            await _send_json(send, *answer)
            return
        payload = EntitiesResponse(model=model, results=results).model_dump_json().encode()
        await _send_json(send, 200, payload, {})


def _valid_request(body: bytes, settings: ServiceSettings) -> tuple[list[Any], EntitiesRequest] | None:
    """The request and its texts when it parses, validates and is within the limits the route
    checks; else None."""
    try:
        request = EntitiesRequest.model_validate(parse_strict_json(body))
        return check_limits(request, settings), request
    except (ValueError, ValidationError, BodyRefused, OverLimit):  # JSONDecodeError is a ValueError
        return None


async def _read_body(receive: Any) -> tuple[list[dict[str, Any]], bytes | None]:
    messages = []
    chunks = []
    while True:
        message = await receive()
        messages.append(message)
        if message["type"] != "http.request":
            return messages, None
        chunks.append(message.get("body", b""))
        if not message.get("more_body", False):
            return messages, b"".join(chunks)


def _replay(messages: list[dict[str, Any]], receive: Any) -> Any:
    pending = list(messages)

    async def replayed() -> dict[str, Any]:
        return pending.pop(0) if pending else await receive()

    return replayed


async def _send_json(send: Any, status: int, payload: bytes, headers: dict[str, str]) -> None:
    raw = [(b"content-length", str(len(payload)).encode()), (b"content-type", b"application/json")]
    raw += [(name.lower().encode("latin-1"), value.encode("latin-1")) for name, value in headers.items()]
    await send({"type": "http.response.start", "status": status, "headers": raw})
    await send({"type": "http.response.body", "body": payload})
