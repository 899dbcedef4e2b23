"""The FastAPI application: ``create_app(settings)``, as ``nerd serve`` and uvicorn's factory mode use it."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections.abc import AsyncIterator

from fastapi import FastAPI

from nerd import __version__
from nerd.errors import ConfigError
from nerd.service.api import admin, health, page, v1
from nerd.service.auth import KeyGuard
from nerd.service.engine import EntityEngine
from nerd.service.entities_fast_path import PATH as ENTITIES_PATH
from nerd.service.entities_fast_path import EntitiesFastPath
from nerd.service.metrics import ServiceMetrics
from nerd.service.middleware import AccessLog, BodyLimit
from nerd.service.model_holder import ModelHolder
from nerd.service.problems import register_problem_handlers
from nerd.service.settings import ServiceSettings

log = logging.getLogger("nerd.service")


def create_app(settings: ServiceSettings | None = None) -> FastAPI:
    """The app for one bundle; the bundle is verified and loaded when the app starts, not here."""
    settings = settings or ServiceSettings()
    if settings.model_dir is None:
        raise ConfigError(
            "no model: pass --model DIR or set NERD_MODEL_DIR to a bundle directory (the default English "
            "model is only found in a checkout of nerd, under models/)"
        )
    metrics = ServiceMetrics()
    holder = ModelHolder(settings, settings.model_dir)
    engine = EntityEngine(holder, settings, metrics)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        await engine.start()
        loop = asyncio.get_running_loop()
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            loop.add_signal_handler(
                signal.SIGHUP, lambda: loop.create_task(_reload_on_signal(holder, metrics))
            )
        log.info("model %s ready=%s %s", holder.model_dir, holder.ready, holder.not_ready_reason)
        try:
            yield
        finally:
            with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
                loop.remove_signal_handler(signal.SIGHUP)
            await engine.stop()

    app = FastAPI(
        title="nerd",
        version=__version__,
        summary="Named-entity recognition served air-gapped from a verified ONNX bundle.",
        lifespan=lifespan,
        # Swagger UI and ReDoc load their scripts from a CDN, which a closed network cannot reach.
        docs_url=None,
        redoc_url=None,
    )
    app.state.settings = settings
    app.state.holder = holder
    app.state.engine = engine
    app.state.metrics = metrics
    app.state.api_keys = settings.accepted_keys()
    app.state.admin_keys = settings.admin_keys_accepted()
    register_problem_handlers(app)
    app.include_router(health)
    app.include_router(v1)
    app.include_router(admin)
    app.include_router(page)
    # The last added runs first: the access log sees everything, keys are checked before the body limit,
    # and a well-formed /v1/entities request is answered before FastAPI's routing.
    route = next(route for route in v1.routes if getattr(route, "path", None) == ENTITIES_PATH)
    app.add_middleware(EntitiesFastPath, engine=engine, settings=settings, route=route)
    app.add_middleware(BodyLimit, max_bytes=settings.max_body_bytes, timeout=settings.body_timeout_s)
    app.add_middleware(KeyGuard, api_keys=app.state.api_keys, admin_keys=app.state.admin_keys)
    app.add_middleware(AccessLog, metrics=metrics)
    return app


async def _reload_on_signal(holder: ModelHolder, metrics: ServiceMetrics) -> None:
    try:
        await asyncio.get_running_loop().run_in_executor(None, holder.reload, None)
        metrics.reloads.labels("done").inc()
        log.info("reloaded %s on SIGHUP", holder.model_dir)
    except Exception as error:  # the old model keeps serving; the log says why
        metrics.reloads.labels("failed").inc()
        log.error("reload on SIGHUP refused, old model kept: %s", error)
