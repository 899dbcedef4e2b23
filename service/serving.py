"""``nerd serve`` as a function: check everything in this process, then run uvicorn with one
onnxruntime session per worker process.

Workers are separate processes that build their own app (uvicorn's factory mode): they receive the
settings this process validated as one JSON value (``NERD_SERVE_SETTINGS``), never re-parsed from
option strings. Keys are not in it: key files are named by path, and keys given in ``NERD_API_KEYS`` /
``NERD_ADMIN_KEYS`` reach the workers as they reached this process.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import tempfile
from collections.abc import Callable, Iterator

from fastapi import FastAPI

from nerd.bundle_checks import verified_bundle
from nerd.service.app import create_app
from nerd.service.listening import LOG_CONFIG, check_port_free
from nerd.service.model_holder import signature_key
from nerd.service.settings import SETTINGS_VARIABLE, ServiceSettings, worker_settings

# Secrets are never written into the environment by nerd: they come from files or from the operator's
# own environment, which the workers inherit.
_NOT_HANDED_ON = {"api_keys", "admin_keys"}


def create_worker_app() -> FastAPI:
    """uvicorn's factory for each worker process."""
    return create_app(worker_settings())


def check_serving(settings: ServiceSettings) -> None:
    """Everything a worker would find wrong, found here first, with its reason (a worker's start-up
    failure is a traceback from uvicorn): no model, an unreadable key file, a bundle that fails its
    checksums, labels or signature, a model its runtime cannot load or a runtime that is not installed.

    Raises:
        ConfigError, ModelBundleError: what is wrong.
    """
    from nerd.tagging.opening import open_bundle

    create_app(settings)  # a missing model, an unreadable key file
    # The one rule of nerd verify (nerd.bundle_checks), with the signature when one is required.
    contents = verified_bundle(settings.model_dir, public_key=signature_key(settings))  # type: ignore[arg-type]
    if settings.device == "cpu":
        open_bundle(contents, runtime=settings.runtime, threads=1)  # loads the model it verified


def serve(
    settings: ServiceSettings,
    *,
    host: str,
    port: int,
    workers: int = 1,
    announce: Callable[[str], None] = lambda _: None,
) -> None:
    """Check, then serve until stopped; ``announce`` hears the address once the checks have passed.

    Raises:
        ConfigError, ModelBundleError: a port in use, or what :func:`check_serving` finds.
    """
    import uvicorn

    from nerd.service.http_protocol import HeaderDeadlineProtocol

    check_port_free(host, port)
    check_serving(settings)
    os.environ[SETTINGS_VARIABLE] = settings.model_dump_json(exclude=_NOT_HANDED_ON)
    announce(f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}")
    with _shared_metrics(workers):
        uvicorn.run(
            "nerd.service.serving:create_worker_app",
            factory=True,
            host=host,
            port=port,
            workers=workers,
            access_log=False,
            log_config=LOG_CONFIG,
            # uvicorn has no deadline on a request's headers; this protocol adds one.
            http=HeaderDeadlineProtocol,
        )


@contextlib.contextmanager
def _shared_metrics(workers: int) -> Iterator[None]:
    """With several workers, prometheus_client's multiprocess mode: each worker writes its values into
    one directory and /metrics answers for all of them (a directory the operator set is kept)."""
    from nerd.service.metrics import MULTIPROCESS_DIR

    if workers < 2 or os.environ.get(MULTIPROCESS_DIR):
        yield
        return
    directory = tempfile.mkdtemp(prefix="nerd-metrics-")
    os.environ[MULTIPROCESS_DIR] = directory
    try:
        yield
    finally:
        os.environ.pop(MULTIPROCESS_DIR, None)
        shutil.rmtree(directory, ignore_errors=True)
