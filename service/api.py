"""The HTTP routes. Dependencies give each route the settings, the model and the caller's key check."""

from __future__ import annotations

import asyncio
from pathlib import Path
from typing import Annotated, Any

from fastapi import APIRouter, Depends, Request, Security
from fastapi.responses import FileResponse, PlainTextResponse, Response

from nerd.errors import NerdError
from nerd.model_bundle import NotABundle
from nerd.service.auth import ADMIN_PREFIX, admin_bearer, api_bearer
from nerd.service.engine import EntityEngine
from nerd.service.json_body import StrictJSONRoute
from nerd.service.metrics import CONTENT_TYPE as METRICS_CONTENT_TYPE
from nerd.service.model_holder import ModelHolder, NotReady, public_verification
from nerd.service.problems import NotFound, OverLimit, ReloadForbidden, ReloadRefused
from nerd.service.schemas import (
    EntitiesRequest,
    EntitiesResponse,
    ModelInfo,
    ModelRef,
    Problem,
    ReloadRequest,
    ResultOut,
)
from nerd.service.settings import ServiceSettings
from nerd.tagging.bundle_tagger import BundleTagger
from nerd.tagging.reading import Reading

STATIC = Path(__file__).with_name("static")


# The dependencies are async although they never wait: FastAPI runs a plain ``def`` dependency in its
# thread pool, four thread hops per request for what are attribute reads.
async def get_settings(request: Request) -> ServiceSettings:
    return request.app.state.settings


async def get_holder(request: Request) -> ModelHolder:
    return request.app.state.holder


async def get_engine(request: Request) -> EntityEngine:
    return request.app.state.engine


async def get_tagger(request: Request) -> BundleTagger:
    """The model that answers this request; :class:`NotReady` (503) while there is none."""
    return request.app.state.holder.require()


Settings = Annotated[ServiceSettings, Depends(get_settings)]
Holder = Annotated[ModelHolder, Depends(get_holder)]
Engine = Annotated[EntityEngine, Depends(get_engine)]
Tagger = Annotated[BundleTagger, Depends(get_tagger)]

health = APIRouter(tags=["health"])
# The keys are enforced by KeyGuard before any body is read; these declare them in the OpenAPI schema.
# Their bodies are read as strict JSON (service/json_body.py): a 400 for what Python's json module
# would take and a route could not use.
NOT_STRICT_JSON = {
    "model": Problem,
    "description": "a body that is not strict UTF-8 JSON: NaN, Infinity, an out-of-range number, a lone "
    "surrogate",
}
SLOW_BODY = {"model": Problem, "description": "a body not complete within NERD_BODY_TIMEOUT_S"}
v1 = APIRouter(
    prefix="/v1",
    dependencies=[Security(api_bearer)],
    responses={401: {"model": Problem}},
    route_class=StrictJSONRoute,
)
admin = APIRouter(
    prefix=ADMIN_PREFIX,
    dependencies=[Security(admin_bearer)],
    responses={401: {"model": Problem}, 403: {"model": Problem}},
    route_class=StrictJSONRoute,
)
page = APIRouter(include_in_schema=False)


@health.get("/healthz")
def healthz() -> dict[str, str]:
    """The process is alive."""
    return {"status": "alive"}


@health.get("/readyz", responses={503: {"model": Problem}})
def readyz(holder: Holder) -> dict[str, str]:
    """The model is loaded, verified, warmed up and on the provider that was asked for."""
    if not holder.ready:
        raise NotReady(holder.not_ready_reason or "not ready")
    tagger = holder.require()
    return {
        "status": "ready",
        "runtime": tagger.runtime,
        "provider": tagger.device,
        "model": tagger.manifest.name,
    }


@health.get("/metrics", response_class=PlainTextResponse)
def metrics(request: Request) -> Response:
    """Prometheus metrics: requests, latency histogram, batch sizes, errors by kind."""
    return Response(request.app.state.metrics.render(), media_type=METRICS_CONTENT_TYPE)


def check_limits(body: EntitiesRequest, settings: ServiceSettings) -> list[Any]:
    items: list[Any] = [body.text] if body.text is not None else (body.texts or body.tokens or [])
    if len(items) > settings.max_texts:
        raise OverLimit(
            f"{len(items)} texts: over the limit of {settings.max_texts} per request (NERD_MAX_TEXTS)"
        )
    for index, item in enumerate(items):
        length = len(item) if isinstance(item, str) else sum(len(token) + 1 for token in item)
        if length > settings.max_chars:
            raise OverLimit(
                f"text {index}: {length} characters, over the limit of {settings.max_chars} (NERD_MAX_CHARS)"
            )
    return items


@v1.post(
    "/entities",
    response_model=EntitiesResponse,
    responses={
        400: NOT_STRICT_JSON,
        408: SLOW_BODY,
        413: {"model": Problem},
        422: {"model": Problem},
        503: {"model": Problem},
    },
)
async def entities(
    body: EntitiesRequest, request: Request, settings: Settings, engine: Engine
) -> EntitiesResponse:
    """Entities in each text, in input order, with character offsets into the text."""
    items = check_limits(body, settings)
    results, model = await answer_entities(body, items, engine, settings, request.scope)
    return EntitiesResponse(model=model, results=results)


async def answer_entities(
    body: EntitiesRequest, items: list[Any], engine: EntityEngine, settings: ServiceSettings, scope: Any
) -> tuple[list[ResultOut], ModelRef]:
    """The engine's answer to a checked request, counted in the metrics and the access log's fields
    (what the route and the pure-ASGI path in service/entities_fast_path.py both do)."""
    reading = Reading(body.aggregation or settings.aggregation, body.decoding or settings.decoding)
    if body.tokens is not None:
        results, model = await engine.entities(tokens=body.tokens, reading=reading)
    else:
        results, model = await engine.entities(texts=items, reading=reading)
    engine.metrics.texts.inc(len(items))
    log_fields: dict[str, Any] = {"texts": len(items), "entities": sum(len(r.entities) for r in results)}
    if settings.log_texts:
        log_fields["input"] = items
    scope.setdefault("state", {})["log_fields"] = log_fields
    return results, model


@v1.get("/model", response_model=ModelInfo, responses={503: {"model": Problem}})
def model_info(tagger: Tagger, holder: Holder) -> ModelInfo:
    """Labels, variant, producer versions, checksums, verification and training summary of the model."""
    manifest = tagger.manifest
    return ModelInfo(
        name=manifest.name,
        bundle_sha256=tagger.bundle_sha256,
        variant=manifest.variant,
        labels=manifest.labels,
        entity_types=sorted({label[2:] for label in manifest.labels if label != "O"}),
        max_length=manifest.max_length,
        word_shapes=manifest.word_shapes,
        runtime=tagger.runtime,
        provider=tagger.device,
        versions=manifest.producers,
        files=manifest.files,
        verification=public_verification(manifest.verification),
        training=holder.training_summary(),
    )


@admin.post(
    "/reload",
    response_model=ModelInfo,
    responses={400: NOT_STRICT_JSON, 408: SLOW_BODY, 409: {"model": Problem}},
)
async def reload(
    request: Request, holder: Holder, settings: Settings, body: ReloadRequest | None = None
) -> ModelInfo:
    """Load a bundle (the current directory again, or another under the models root) and swap it in
    without failing requests."""
    given = body.model_dir if body else None
    target = reload_target(given, settings.models_root)
    try:
        await asyncio.get_running_loop().run_in_executor(None, holder.reload, target)
    except NerdError as error:
        request.app.state.metrics.reloads.labels("failed").inc()
        raise ReloadRefused(f"reload refused, old model kept: {refusal_reason(given, error)}") from None
    request.app.state.metrics.reloads.labels("done").inc()
    return model_info(holder.require(), holder)


def refusal_reason(given: str | None, error: NerdError) -> str:
    """Why a reload failed, naming the bundle as the caller named it and never a path of this server.

    Whatever does not hold a bundle (a missing name, a file, an empty directory, a link) gets the same
    words, so that answers cannot be used to map the models root.
    """
    name = "the current bundle" if not given else f"model_dir {given[:200]!r}"
    if isinstance(error, NotABundle):
        return f"{name}: no bundle by that name below the models root"
    return f"{name}: {getattr(error, 'reason', None) or error}"


def reload_target(model_dir: str | None, root: Path | None) -> Path | None:
    """The bundle a reload may load: the current one (None), or a directory below the models root.

    Anything else is refused with the same words whether it exists or not (a name that cannot be a path
    at all: a null byte, an overlong name, a link loop, too): the answer must not tell a caller what
    lies on the server's disk.
    """
    if not model_dir:
        return None
    refusal = ReloadForbidden(
        "model_dir must name a bundle below the models root (--models-root, NERD_MODELS_ROOT)"
    )
    if root is None:
        raise refusal
    try:
        base = root.resolve()
        target = (base / model_dir).resolve()
    except (OSError, ValueError, RuntimeError):  # NUL, ENAMETOOLONG, ELOOP (RuntimeError before 3.13)
        raise refusal from None
    if target == base or not target.is_relative_to(base):
        raise refusal
    return target


@page.get("/")
def index() -> FileResponse:
    return FileResponse(STATIC / "index.html", media_type="text/html")


@page.get("/static/{name}")
def static_file(name: str) -> Response:
    allowed = {"app.js": "text/javascript", "style.css": "text/css"}
    if name not in allowed:
        raise NotFound("no such file")
    return FileResponse(STATIC / name, media_type=allowed[name])
