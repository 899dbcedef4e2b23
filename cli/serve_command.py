"""``nerd serve``: the FastAPI service on uvicorn, one onnxruntime session per worker process."""

from __future__ import annotations

import contextlib
import errno
import os
import shutil
import socket
import tempfile
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from nerd.cli.choices import DECODING_HELP, DecodingChoice
from nerd.cli.console import error_console, exit_on_error
from nerd.errors import ConfigError


class ServeDevice(StrEnum):
    cpu = "cpu"
    cuda = "cuda"


LOG_CONFIG = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(message)s"},
        "server": {"format": "%(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "access": {"class": "logging.StreamHandler", "formatter": "plain", "stream": "ext://sys.stdout"},
        "server": {"class": "logging.StreamHandler", "formatter": "server", "stream": "ext://sys.stderr"},
    },
    "loggers": {
        "nerd.access": {"handlers": ["access"], "level": "INFO", "propagate": False},
        "nerd.service": {"handlers": ["server"], "level": "INFO", "propagate": False},
        "uvicorn": {"handlers": ["server"], "level": "INFO", "propagate": False},
    },
}


def check_port_free(host: str, port: int) -> None:
    """Refuse a port something already listens on, before anything is printed or loaded.

    uvicorn would find out only after the "call it" line, with a bare ``[Errno 98]``.
    """
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    with socket.socket(family, socket.SOCK_STREAM) as probe:
        # As uvicorn binds: a port left in TIME_WAIT by an earlier server is free.
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((host, port))
        except OSError as error:
            if error.errno == errno.EADDRINUSE:
                raise ConfigError(
                    f"port {port} on {host} is already in use: stop what listens there, or choose another "
                    f"port with --port N (make serve PORT=N)"
                ) from None
            raise ConfigError(f"cannot listen on {host}:{port}: {error.strerror or error}") from None


def serve_cli(
    model: Annotated[
        Path | None,
        typer.Option(
            help="Bundle directory (onnx-<variant>/). Default: NERD_MODEL_DIR, else the English model "
            "shipped under models/ (CoNLL types, int8 MiniLM).",
            file_okay=False,
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    device: Annotated[
        ServeDevice,
        typer.Option(help="cpu, or cuda (not ready, never a silent CPU fallback, without a GPU)."),
    ] = ServeDevice.cpu,
    workers: Annotated[
        int, typer.Option(help="Processes, each with its own session; threads are split between them.", min=1)
    ] = 1,
    threads: Annotated[
        int | None, typer.Option(help="onnxruntime threads per worker. Default: the cores / workers.", min=1)
    ] = None,
    spinning: Annotated[
        bool | None,
        typer.Option(
            "--spinning/--no-spinning",
            help="Let onnxruntime's threads spin while waiting (NERD_SPINNING): a little faster on idle "
            "cores, more than twice as slow when another process holds a core. Default: off.",
        ),
    ] = None,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            help="File of accepted API keys, one per line; /v1 then needs Authorization: Bearer.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    admin_key_file: Annotated[
        Path | None,
        typer.Option(
            help="File of admin keys, one per line: POST /v1/admin/reload then needs one (an inference key "
            "is not enough). Without admin keys the admin routes are off (kill -HUP still reloads).",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            help="Ed25519 public key (PEM) of the bundle's signer (NERD_PUBLIC_KEY_FILE); see nerd sign.",
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    require_signature: Annotated[
        bool,
        typer.Option(
            "--require-signature",
            help="Serve (and reload) only bundles whose bundle.sig verifies with --public-key.",
        ),
    ] = False,
    models_root: Annotated[
        Path | None,
        typer.Option(
            help="Directory a reload may load another bundle from (below it). Default: none, a reload "
            "only reloads the bundle being served.",
            file_okay=False,
            exists=True,
        ),
    ] = None,
    max_batch_size: Annotated[
        int | None, typer.Option(help="Texts per model call (NERD_MAX_BATCH_SIZE).")
    ] = None,
    max_wait_ms: Annotated[
        float | None,
        typer.Option(
            help="Longest wait for a batch to fill, in ms (NERD_MAX_WAIT_MS). Default 0: a batch is "
            "what is queued when the model is free, so a lone request never waits."
        ),
    ] = None,
    decoding: Annotated[
        DecodingChoice | None,
        typer.Option(help=f"{DECODING_HELP} A request may choose (its decoding field). Default: viterbi."),
    ] = None,
    log_texts: Annotated[
        bool,
        typer.Option(
            "--log-texts", help="Put request texts in the access log (off: they may be confidential)."
        ),
    ] = False,
) -> None:
    """Serve a verified bundle over HTTP: POST /v1/entities, health, model facts, metrics, a page at /."""
    with exit_on_error():
        import uvicorn

        from nerd.model_bundle import verified_bundle
        from nerd.service.http_protocol import HeaderDeadlineProtocol
        from nerd.service.model_holder import check_signature_policy
        from nerd.service.settings import ServiceSettings
        from nerd.tagging.onnx_tagger import OnnxTagger, default_threads

        overrides = {
            "NERD_MODEL_DIR": str(model.resolve()) if model else None,
            "NERD_DEVICE": device.value,
            "NERD_THREADS": str(threads or max(1, default_threads() // workers)),
            "NERD_SPINNING": None if spinning is None else str(spinning).lower(),
            "NERD_API_KEY_FILE": str(api_key_file.resolve()) if api_key_file else None,
            "NERD_ADMIN_KEY_FILE": str(admin_key_file.resolve()) if admin_key_file else None,
            "NERD_MODELS_ROOT": str(models_root.resolve()) if models_root else None,
            "NERD_PUBLIC_KEY_FILE": str(public_key.resolve()) if public_key else None,
            "NERD_REQUIRE_SIGNATURE": "true" if require_signature else None,
            "NERD_MAX_BATCH_SIZE": str(max_batch_size) if max_batch_size else None,
            "NERD_MAX_WAIT_MS": str(max_wait_ms) if max_wait_ms is not None else None,
            "NERD_LOG_TEXTS": "true" if log_texts else None,
            "NERD_DECODING": decoding.value if decoding else None,
        }
        # Workers are separate processes: they read their settings from the environment.
        os.environ.update({name: value for name, value in overrides.items() if value is not None})
        from nerd.service.app import create_app

        check_port_free(host, port)
        settings = ServiceSettings()
        create_app(settings)  # fails here, in the parent, on a missing model or an unreadable key file
        # A bundle that fails its checksums, or whose label list is not its model's, stops here with the
        # reason, before any worker starts (a worker's start-up failure is a traceback from uvicorn).
        contents = verified_bundle(settings.model_dir)
        check_signature_policy(contents, settings)
        if settings.device == "cpu":
            OnnxTagger(contents, threads=1)  # loads the model it verified

        address = f"http://{'127.0.0.1' if host in {'0.0.0.0', '::'} else host}:{port}"
        error_console.print(
            f"serving {settings.model_dir} on {address}/ (a page to try it; Ctrl-C stops)",
            soft_wrap=True,
            markup=False,
        )
        auth = ' -H "Authorization: Bearer $KEY"' if settings.accepted_keys() else ""
        error_console.print(
            f"call it: curl -s {address}/v1/entities -H 'Content-Type: application/json'{auth} "
            """-d '{"text": "Angela Merkel met Emmanuel Macron in Paris."}'""",
            soft_wrap=True,
            markup=False,
        )
        with _shared_metrics(workers):
            uvicorn.run(
                "nerd.service.app:create_app",
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
