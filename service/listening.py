"""Before uvicorn listens: the port checked free (a clear line instead of a bare errno), and the log
configuration both ``nerd serve`` and ``nerd review serve`` run with. Imports nothing of the model."""

from __future__ import annotations

import errno
import socket

from nerd.errors import ConfigError

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
