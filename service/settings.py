"""Service settings: environment variables ``NERD_*`` (or a ``.env`` file), overridden by ``nerd serve``."""

from __future__ import annotations

import hmac
import json
import os
from pathlib import Path
from typing import Literal

from pydantic import Field, SecretStr

from nerd.default_model import default_model_dir
from nerd.errors import ConfigError
from nerd.tagging.reading import ReadingSettings

# ``nerd serve`` hands the settings it validated to its worker processes as one JSON value.
SETTINGS_VARIABLE = "NERD_SERVE_SETTINGS"


class ServiceSettings(ReadingSettings):
    """Everything the app reads at start-up; each field is ``NERD_<NAME>`` in the environment. How texts
    are read (aggregation, decoding, stride, batch size) comes from :class:`ReadingSettings`, which
    ``nerd evaluate`` reads too."""

    model_dir: Path | None = Field(
        default_factory=default_model_dir,
        description=(
            "Bundle directory (onnx-<variant>/). Default: NERD_MODEL_DIR, else the English model "
            "shipped under models/ (CoNLL types, int8 MiniLM)."
        ),
    )
    device: Literal["cpu", "cuda"] = Field(
        default="cpu", description="cpu, or cuda (not ready, never a silent CPU fallback, without a GPU)."
    )
    threads: int | None = Field(
        default=None, ge=1, description="onnxruntime threads per worker. Default: the cores / workers."
    )
    spinning: bool = Field(
        default=False,
        description=(
            "Let onnxruntime's threads spin while waiting (NERD_SPINNING): a little faster on idle "
            "cores, more than twice as slow when another process holds a core. Default: off."
        ),
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
        description=(
            "Longest wait for a batch to fill, in ms (NERD_MAX_WAIT_MS). Default 0: a batch is what "
            "is queued when the model is free, so a lone request never waits."
        ),
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
    api_key_file: Path | None = Field(
        default=None,
        description="File of accepted API keys, one per line; /v1 then needs Authorization: Bearer.",
    )
    admin_keys: list[SecretStr] = Field(
        default_factory=list, description="bearer tokens for /v1/admin; none: the admin routes are off"
    )
    admin_key_file: Path | None = Field(
        default=None,
        description=(
            "File of admin keys, one per line: POST /v1/admin/reload then needs one (an inference key "
            "is not enough). Without admin keys the admin routes are off (kill -HUP still reloads)."
        ),
    )
    public_key_file: Path | None = Field(
        default=None,
        description="Ed25519 public key (PEM) of the bundle's signer (NERD_PUBLIC_KEY_FILE); see nerd sign.",
    )
    require_signature: bool = Field(
        default=False,
        description="Serve (and reload) only bundles whose bundle.sig verifies with --public-key.",
    )
    models_root: Path | None = Field(
        default=None,
        description=(
            "Directory a reload may load another bundle from (below it). Default: none, a reload only "
            "reloads the bundle being served."
        ),
    )
    log_texts: bool = Field(
        default=False, description="Put request texts in the access log (off: they may be confidential)."
    )

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


def worker_settings() -> ServiceSettings:
    """The settings of a worker process: those ``serve`` handed on, else the environment's."""
    handed = os.environ.get(SETTINGS_VARIABLE)
    return ServiceSettings(**json.loads(handed)) if handed else ServiceSettings()
