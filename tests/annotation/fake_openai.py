"""FakeOpenAI: a TEST DOUBLE of the OpenAI API (chat completions, files, batches), not a model.

It speaks the wire protocol the ``openai`` SDK speaks (also under Azure's ``/openai`` routes), answers
every sentence with a fixed rule (capitalised words are PER) and can be told to misbehave: per-sentence
scripts of statuses, timeouts and non-JSON bodies for chat; batches that complete, expire half-done or
fail. It records what it was asked, so tests can check that nothing was asked twice.
"""

from __future__ import annotations

import asyncio
import itertools
import json
import time
from collections import Counter
from dataclasses import dataclass, field
from typing import Annotated, Any

from fastapi import APIRouter, FastAPI, File, Form, Request, UploadFile
from fastapi.responses import JSONResponse, PlainTextResponse, Response


def sentence_of(messages: list[dict[str, Any]]) -> str:
    """The sentence a nerd prompt asks about (its last user message's ``Sentence:`` line)."""
    text = [m["content"] for m in messages if m.get("role") == "user"][-1]
    return text.rsplit("Sentence: ", 1)[1].split("\n", 1)[0]


def answer_text(sentence: str) -> str:
    entities = {token: "PER" for token in sentence.split() if token[:1].isupper()}
    return f"Reasoning: capitalised words are names.\nResult: {json.dumps(entities)}"


@dataclass
class FakeOpenAI:
    """State and scripts of the fake; ``app`` serves it."""

    # sentence word -> actions consumed one per call: an HTTP status, (status, Retry-After value),
    # "timeout", "garbage", "ok".
    scripts: dict[str, list[Any]] = field(default_factory=dict)
    retry_after_ms: int = 5
    hang_seconds: float = 5.0
    answer_delay: float = 0.0
    # "complete", "expire_half" or "fail"
    batch_mode: str = "complete"
    upload_status: int = 200
    asked: Counter = field(default_factory=Counter)
    in_flight: int = 0
    max_in_flight: int = 0
    seen_keys: set[str] = field(default_factory=set)
    files: dict[str, bytes] = field(default_factory=dict)
    batches: dict[str, dict[str, Any]] = field(default_factory=dict)
    uploads: int = 0
    batches_created: int = 0
    _ids: Any = field(default_factory=lambda: itertools.count(1))

    def _next_action(self, sentence: str) -> Any:
        for word, actions in self.scripts.items():
            if word in sentence.split() and actions:
                return actions.pop(0)
        return "ok"

    def completion(self, body: dict[str, Any], sentence: str) -> dict[str, Any]:
        return {
            "id": f"chatcmpl-{next(self._ids)}",
            "object": "chat.completion",
            "created": int(time.time()),
            "model": body.get("model", "fake"),
            "choices": [
                {
                    "index": 0,
                    "message": {"role": "assistant", "content": answer_text(sentence)},
                    "finish_reason": "stop",
                }
            ],
            "usage": {"prompt_tokens": 10, "completion_tokens": 10, "total_tokens": 20},
        }

    async def chat(self, request: Request) -> Response:
        self.seen_keys.add(request.headers.get("authorization", ""))
        body = await request.json()
        sentence = sentence_of(body["messages"])
        self.asked[sentence] += 1
        self.in_flight += 1
        self.max_in_flight = max(self.max_in_flight, self.in_flight)
        try:
            action = self._next_action(sentence)
            if self.answer_delay:
                await asyncio.sleep(self.answer_delay)
            if action == "timeout":
                await asyncio.sleep(self.hang_seconds)
            if action == "garbage":
                return PlainTextResponse("<html>gateway</html>", status_code=200)
            if isinstance(action, tuple):  # (status, the Retry-After header's value)
                action, retry_after = action
                error = {"error": {"message": f"fake status {action}", "type": "fake", "code": str(action)}}
                return JSONResponse(error, status_code=action, headers={"retry-after": retry_after})
            if isinstance(action, int):
                headers = {"retry-after-ms": str(self.retry_after_ms)} if action in {429, 503} else {}
                error = {"error": {"message": f"fake status {action}", "type": "fake", "code": str(action)}}
                return JSONResponse(error, status_code=action, headers=headers)
            return JSONResponse(self.completion(body, sentence), headers={"x-request-id": "req-fake"})
        finally:
            self.in_flight -= 1

    async def upload(self, file: Annotated[UploadFile, File()], purpose: Annotated[str, Form()]) -> Any:
        if self.upload_status != 200:
            error = {"error": {"message": "fake upload refusal", "type": "fake", "code": "refused"}}
            return JSONResponse(error, status_code=self.upload_status)
        self.uploads += 1
        identifier = f"file-{next(self._ids)}"
        self.files[identifier] = await file.read()
        return {
            "id": identifier,
            "object": "file",
            "bytes": len(self.files[identifier]),
            "created_at": int(time.time()),
            "filename": file.filename,
            "purpose": purpose,
            "status": "processed",
        }

    def content(self, file_id: str) -> Response:
        return Response(self.files[file_id], media_type="application/octet-stream")

    async def create_batch(self, request: Request) -> dict[str, Any]:
        body = await request.json()
        self.batches_created += 1
        identifier = f"batch_{next(self._ids)}"
        self.batches[identifier] = {
            "id": identifier,
            "object": "batch",
            "endpoint": body["endpoint"],
            "input_file_id": body["input_file_id"],
            "completion_window": body["completion_window"],
            "created_at": int(time.time()),
            "status": "validating",
            "request_counts": {"total": 0, "completed": 0, "failed": 0},
            "polls": 0,
        }
        return self._public(identifier)

    def _public(self, identifier: str) -> dict[str, Any]:
        return {key: value for key, value in self.batches[identifier].items() if key != "polls"}

    def retrieve_batch(self, batch_id: str) -> dict[str, Any]:
        batch = self.batches[batch_id]
        batch["polls"] += 1
        if batch["status"] == "validating":
            batch["status"] = "in_progress"
        elif batch["status"] == "in_progress":
            self._finish(batch)
        return self._public(batch_id)

    def _finish(self, batch: dict[str, Any]) -> None:
        lines = [json.loads(raw) for raw in self.files[batch["input_file_id"]].splitlines() if raw.strip()]
        if self.batch_mode == "fail":
            batch["status"] = "failed"
            batch["errors"] = {
                "object": "list",
                "data": [{"code": "invalid_request", "message": "fake failure"}],
            }
            return
        done = lines if self.batch_mode == "complete" else lines[: len(lines) // 2]
        outputs, errors = [], []
        for line in lines:
            sentence = sentence_of(line["body"]["messages"])
            if line in done:
                self.asked[sentence] += 1
                body = self.completion(line["body"], sentence)
                response = {"status_code": 200, "request_id": "req-batch", "body": body}
                outputs.append(
                    {
                        "id": f"batch_req_{next(self._ids)}",
                        "custom_id": line["custom_id"],
                        "response": response,
                        "error": None,
                    }
                )
            else:
                errors.append(
                    {
                        "id": f"batch_req_{next(self._ids)}",
                        "custom_id": line["custom_id"],
                        "response": None,
                        "error": {"code": "batch_expired", "message": "not completed in time"},
                    }
                )
        batch["status"] = "completed" if self.batch_mode == "complete" else "expired"
        batch["request_counts"] = {"total": len(lines), "completed": len(outputs), "failed": len(errors)}
        for kind, records in (("output_file_id", outputs), ("error_file_id", errors)):
            if records:
                identifier = f"file-{next(self._ids)}"
                self.files[identifier] = "".join(json.dumps(r) + "\n" for r in records).encode()
                batch[kind] = identifier

    @property
    def app(self) -> FastAPI:
        app = FastAPI()
        for prefix in ("/v1", "/openai"):
            router = APIRouter(prefix=prefix)
            router.add_api_route("/chat/completions", self.chat, methods=["POST"])
            router.add_api_route("/deployments/{deployment}/chat/completions", self.chat, methods=["POST"])
            router.add_api_route("/files", self.upload, methods=["POST"])
            router.add_api_route("/files/{file_id}/content", self.content, methods=["GET"])
            router.add_api_route("/batches", self.create_batch, methods=["POST"])
            router.add_api_route("/batches/{batch_id}", self.retrieve_batch, methods=["GET"])
            app.include_router(router)
        return app
