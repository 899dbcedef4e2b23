"""``nerd review serve`` as a function: the checks before serving, then uvicorn with the same
header deadline as ``nerd serve`` (a client trickling its headers is cut off with a 408)."""

from __future__ import annotations

from collections.abc import Callable
from typing import ClassVar

from nerd.errors import ConfigError
from nerd.review.settings import ReviewSettings
from nerd.review.store import ReviewStore


def check_identity_set_up(store: ReviewStore, settings: ReviewSettings) -> None:
    """Off loopback, a review needs users (or a trusted proxy): one line says how to add one.

    Raises:
        ConfigError: a non-loopback host and no way for anyone to sign in.
    """
    if settings.loopback or settings.trusted_proxies or store.has_users():
        return
    raise ConfigError(
        f"--host {settings.host} would open the review to the network with no login: add a user first "
        f"(nerd review users add {store.where} NAME), or serve on 127.0.0.1"
    )


def serve_review(
    store: ReviewStore,
    settings: ReviewSettings,
    *,
    port: int,
    announce: Callable[[str], None] = lambda _: None,
) -> None:
    """Check, then serve until stopped (SIGTERM and Ctrl-C stop gracefully, folding in the WAL).

    Raises:
        ConfigError: a port in use, or no identity off loopback; ReviewStoreError: no usable database.
    """
    import uvicorn

    from nerd.review.app import create_review_app
    from nerd.service.http_protocol import HeaderDeadlineProtocol
    from nerd.service.listening import LOG_CONFIG, check_port_free

    class ReviewProtocol(HeaderDeadlineProtocol):
        header_timeout: ClassVar[float | None] = settings.header_timeout_s
        timeout_setting: ClassVar[str] = "--header-timeout"

    check_port_free(settings.host, port)
    app = create_review_app(store, settings)
    check_identity_set_up(store, settings)
    shown = "127.0.0.1" if settings.host in {"0.0.0.0", "::"} else settings.host
    announce(f"{'https' if settings.tls else 'http'}://{shown}:{port}/")
    uvicorn.run(
        app,
        host=settings.host,
        port=port,
        access_log=False,
        log_config=LOG_CONFIG,
        http=ReviewProtocol,
        # The client address stays the proxy's: it is what --trusted-proxy is checked against.
        proxy_headers=False,
    )
