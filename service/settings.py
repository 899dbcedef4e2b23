"""Service settings: environment variables ``NERD_*`` (or a ``.env`` file), overridden by ``nerd serve``."""

from __future__ import annotations

import hmac
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from nerd.default_model import default_model_dir
from nerd.errors import ConfigError
from nerd.tagging.reading import ReadingSettings


class ServiceSettings(ReadingSettings):
    """Everything the app reads at start-up; each field is ``NERD_<NAME>`` in the environment. How texts
    are read (aggregation, decoding, stride, batch size) comes from :class:`ReadingSettings`, which
    ``nerd evaluate`` reads too."""

    model_dir: Path | None = Field(
        default_factory=default_model_dir,
        description="bundle directory (onnx-<variant>/); default: the English model shipped in models/",
    )
    device: Literal["cpu", "cuda"] = "cpu"
    threads: int | None = Field(default=None, ge=1, description="onnxruntime threads; default: the cores")
    spinning: bool = Field(
        default=False,
        description="let onnxruntime's threads spin while waiting: a little faster on idle cores, more "
        "than twice as slow when another process holds a core",
    )
    max_batch_tokens: int = Field(
        default=128,
        ge=1,
        description="padded sub-tokens per model call (rows times the longest): a micro-batch of mixed "
        "lengths runs as a few even calls instead of one padded to its longest text",
    )
    max_wait_ms: float = Field(
        default=0.0,
        ge=0,
        le=1000,
        description="how long a batch waits to fill; 0: a batch is whatever is queued when the model is "
        "free, so a lone request never waits and requests arriving during a model call share the next",
    )
    queue_size: int = Field(default=1024, ge=1, description="texts waiting; beyond it requests get 503")
    max_body_bytes: int = Field(default=1_000_000, ge=1)
    header_timeout_s: float = Field(
        default=10.0,
        gt=0,
        description="seconds a connection has to send a request's headers (from its opening, or from the "
        "request's first byte when kept alive); then 408 and the connection is closed",
    )
    body_timeout_s: float = Field(
        default=30.0, gt=0, description="seconds a request has to send its whole body once its headers are in"
    )
    max_texts: int = Field(default=64, ge=1, description="texts per request")
    max_chars: int = Field(default=20_000, ge=1, description="characters per text")
    max_text_tokens: int = Field(
        default=8192,
        ge=1,
        description="sub-tokens per text (what the model reads: 20,000 characters of prose are about 5,000, "
        "of punctuation 20,000); a text over it gets 422",
    )
    api_keys: list[SecretStr] = Field(default_factory=list, description="accepted bearer tokens")
    api_key_file: Path | None = Field(default=None, description="one accepted bearer token per line")
    admin_keys: list[SecretStr] = Field(
        default_factory=list, description="bearer tokens for /v1/admin; none: the admin routes are off"
    )
    admin_key_file: Path | None = Field(default=None, description="one admin bearer token per line")
    public_key_file: Path | None = Field(
        default=None, description="Ed25519 public key (PEM) a bundle's bundle.sig must verify with"
    )
    require_signature: bool = Field(
        default=False, description="refuse any bundle (at start and on reload) not signed for public_key_file"
    )
    models_root: Path | None = Field(
        default=None,
        description="directory a reload may take a bundle from (below it); none: only the current bundle",
    )
    log_texts: bool = Field(default=False, description="put request texts in the access log")

    def accepted_keys(self) -> list[bytes]:
        """The configured API keys (environment and file); empty means the API is open."""
        return _keys(self.api_keys, self.api_key_file)

    def admin_keys_accepted(self) -> list[bytes]:
        """The admin keys (environment and file); empty means the admin routes are off."""
        return _keys(self.admin_keys, self.admin_key_file)


def _keys(given: list[SecretStr], path: Path | None) -> list[bytes]:
    keys = [key.get_secret_value() for key in given]
    if path is not None:
        try:
            text = path.read_text(encoding="utf-8")
        except (OSError, UnicodeDecodeError) as error:
            raise ConfigError(f"{path}: cannot read the key file: {error}") from None
        keys.extend(line.strip() for line in text.splitlines() if line.strip() and not line.startswith("#"))
    return [key.encode() for key in keys]


def key_matches(presented: str, accepted: list[bytes]) -> bool:
    """Constant-time comparison against every accepted key (no early exit on the first match).

    >>> key_matches("s3cret", [b"other", b"s3cret"])
    True
    >>> key_matches("s3cre", [b"s3cret"])
    False
    """
    candidate = presented.encode()
    found = False
    for key in accepted:
        found |= hmac.compare_digest(candidate, key)
    return found
