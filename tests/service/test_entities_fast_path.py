"""The pure-ASGI answer to POST /v1/entities: the route's bytes, and every refusal left to the route."""

import asyncio
import json

import pytest

from nerd.service.engine import EntityEngine
from nerd.service.entities_fast_path import EntitiesFastPath
from nerd.service.metrics import ServiceMetrics
from nerd.service.model_holder import ModelHolder
from nerd.service.settings import ServiceSettings

TEXT = "Alma met Borel in Quenby with Hollin 🙂 today."


class RecordingApp:
    """A test double for FastAPI's app behind the fast path: records what reaches it, answers 299."""

    def __init__(self):
        self.bodies = []

    async def __call__(self, scope, receive, send):
        chunks = []
        while True:
            message = await receive()
            chunks.append(message.get("body", b""))
            if not message.get("more_body"):
                break
        self.bodies.append(b"".join(chunks))
        await send({"type": "http.response.start", "status": 299, "headers": []})
        await send({"type": "http.response.body", "body": b""})


def post(app, body: bytes, content_type=b"application/json", chunk=None):
    """Send one request through ``app``; the body in pieces of ``chunk`` bytes; (status, body)."""
    pieces = [body[i : i + chunk] for i in range(0, len(body), chunk)] if chunk and body else [body]
    messages = [
        {"type": "http.request", "body": piece, "more_body": index < len(pieces) - 1}
        for index, piece in enumerate(pieces)
    ]
    sent = []

    async def receive():
        return messages.pop(0)

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "method": "POST",
        "path": "/v1/entities",
        "headers": [(b"content-type", content_type)],
        "state": {},
    }
    asyncio.get_event_loop().run_until_complete(app(scope, receive, send))
    return sent[0]["status"], b"".join(m.get("body", b"") for m in sent[1:])


@pytest.fixture
def fast_path(bundle):
    settings = ServiceSettings(_env_file=None, model_dir=bundle, max_texts=4)
    engine = EntityEngine(ModelHolder(settings, bundle), settings, ServiceMetrics())
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    loop.run_until_complete(engine.start())
    behind = RecordingApp()
    yield EntitiesFastPath(behind, engine=engine, settings=settings, route=None), behind
    loop.run_until_complete(engine.stop())
    loop.close()
    asyncio.set_event_loop(None)


def test_a_valid_request_is_answered_without_reaching_fastapi(fast_path):
    app, behind = fast_path
    status, body = post(app, json.dumps({"texts": [TEXT, ""]}).encode(), chunk=7)
    assert status == 200 and behind.bodies == []
    results = json.loads(body)["results"]
    assert len(results) == 2 and results[1]["entities"] == []
    for entity in results[0]["entities"]:
        assert TEXT[entity["start"] : entity["end"]] == entity["text"]


@pytest.mark.parametrize(
    "body",
    [
        b'{"text": "a", "text": "b"}',  # a key twice: the route's 400
        b'{"text": 1}',  # the route's 422
        b'{"texts": ["a", "b", "c", "d", "e"]}',  # over max_texts: the route's 422
        b'{"text": "a"',  # not JSON
        b"",
    ],
)
def test_whatever_the_route_would_refuse_reaches_it_with_its_body_whole(fast_path, body):
    app, behind = fast_path
    assert post(app, body, chunk=3) == (299, b"")
    assert behind.bodies == [body]


def test_another_content_type_reaches_the_route(fast_path):
    app, behind = fast_path
    body = json.dumps({"text": TEXT}).encode()
    assert post(app, body, content_type=b"text/plain")[0] == 299
    assert behind.bodies == [body]


def test_the_fast_answer_is_the_routes_answer_byte_for_byte(client):
    body = json.dumps({"texts": [TEXT, "ALMA MET BOREL"], "aggregation": "average"})
    fast = client.post("/v1/entities", content=body, headers={"content-type": "application/json"})
    # With a charset parameter the fast path steps aside and FastAPI's route answers.
    routed = client.post(
        "/v1/entities", content=body, headers={"content-type": "application/json; charset=utf-8"}
    )
    assert fast.status_code == routed.status_code == 200
    assert fast.content == routed.content
    assert fast.headers["content-type"] == routed.headers["content-type"]
    metrics = client.get("/metrics").text
    assert 'nerd_requests_total{path="/v1/entities",status="200"} 2.0' in metrics
