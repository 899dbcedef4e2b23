"""``nerd serve``: the FastAPI service on uvicorn, one model (onnxruntime or OpenVINO) per worker process."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path
from typing import Annotated

import typer

from nerd.cli.choices import DECODING_HELP, DecodingChoice, RuntimeChoice
from nerd.cli.console import error_console, exit_on_error
from nerd.cli.settings_help import described
from nerd.service.settings import ServiceSettings


class ServeDevice(StrEnum):
    cpu = "cpu"
    cuda = "cuda"


def serve_cli(
    model: Annotated[
        Path | None,
        typer.Option(
            help=described(ServiceSettings, "model_dir"),
            file_okay=False,
        ),
    ] = None,
    host: Annotated[
        str, typer.Option(help="Interface to listen on (0.0.0.0 for every interface).")
    ] = "127.0.0.1",
    port: Annotated[int, typer.Option(help="TCP port.", min=1, max=65535)] = 8000,
    device: Annotated[
        ServeDevice,
        typer.Option(help=described(ServiceSettings, "device")),
    ] = ServeDevice.cpu,
    runtime: Annotated[RuntimeChoice | None, typer.Option(help=described(ServiceSettings, "runtime"))] = None,
    workers: Annotated[
        int, typer.Option(help="Processes, each with its own session; threads are split between them.", min=1)
    ] = 1,
    threads: Annotated[int | None, typer.Option(help=described(ServiceSettings, "threads"), min=1)] = None,
    spinning: Annotated[
        bool | None,
        typer.Option(
            "--spinning/--no-spinning",
            help=described(ServiceSettings, "spinning"),
        ),
    ] = None,
    api_key_file: Annotated[
        Path | None,
        typer.Option(
            help=described(ServiceSettings, "api_key_file"),
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    admin_key_file: Annotated[
        Path | None,
        typer.Option(
            help=described(ServiceSettings, "admin_key_file"),
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    public_key: Annotated[
        Path | None,
        typer.Option(
            help=described(ServiceSettings, "public_key_file"),
            dir_okay=False,
            exists=True,
        ),
    ] = None,
    require_signature: Annotated[
        bool,
        typer.Option(
            "--require-signature",
            help=described(ServiceSettings, "require_signature"),
        ),
    ] = False,
    models_root: Annotated[
        Path | None,
        typer.Option(
            help=described(ServiceSettings, "models_root"),
            file_okay=False,
            exists=True,
        ),
    ] = None,
    max_batch_size: Annotated[
        int | None, typer.Option(help=described(ServiceSettings, "max_batch_size"))
    ] = None,
    max_wait_ms: Annotated[
        float | None,
        typer.Option(help=described(ServiceSettings, "max_wait_ms")),
    ] = None,
    decoding: Annotated[
        DecodingChoice | None,
        typer.Option(help=f"{DECODING_HELP} A request may choose (its decoding field). Default: viterbi."),
    ] = None,
    log_texts: Annotated[
        bool,
        typer.Option("--log-texts", help=described(ServiceSettings, "log_texts")),
    ] = False,
) -> None:
    """Serve a verified bundle over HTTP: POST /v1/entities, health, model facts, metrics, a page at /."""
    with exit_on_error():
        from nerd.service.serving import serve
        from nerd.tagging.onnx_tagger import default_threads

        given = {
            "model_dir": model.resolve() if model else None,
            "device": device.value,
            "runtime": runtime.value if runtime else None,
            "threads": threads or max(1, default_threads() // workers),
            "spinning": spinning,
            "api_key_file": api_key_file.resolve() if api_key_file else None,
            "admin_key_file": admin_key_file.resolve() if admin_key_file else None,
            "models_root": models_root.resolve() if models_root else None,
            "public_key_file": public_key.resolve() if public_key else None,
            "require_signature": True if require_signature else None,
            "max_batch_size": max_batch_size or None,
            "max_wait_ms": max_wait_ms,
            "log_texts": True if log_texts else None,
            "decoding": decoding.value if decoding else None,
        }
        # What is not given on the command line comes from NERD_* and .env, as before.
        settings = ServiceSettings(**{name: value for name, value in given.items() if value is not None})

        def announce(address: str) -> None:
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

        serve(settings, host=host, port=port, workers=workers, announce=announce)
