"""Checking a bundle's Ed25519 signature (``bundle.sig``) against a public key, on the bytes read once.

``nerd sign`` (``signatures.py``) writes the signature: the bundle digest (which covers the manifest and,
through it, every file), the signature over it, and the signing key's fingerprint.
"""

from __future__ import annotations

import base64
import hashlib
import json
from pathlib import Path
from typing import Any

from nerd.bundle_reading import BundleContents
from nerd.errors import ConfigError
from nerd.model_bundle import SIGNATURE_FILE

ALGORITHM = "ed25519"


def crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise ConfigError("signatures need the cryptography package: pip install cryptography") from None
    return serialization, ed25519


def fingerprint(public_key: Any) -> str:
    """sha256 of the raw public key, the short name a signature gives its key."""
    serialization, _ = crypto()
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def load_key(path: Path, *, private: bool) -> Any:
    serialization, ed25519 = crypto()
    try:
        data = path.read_bytes()
        key = (
            serialization.load_pem_private_key(data, password=None)
            if private
            else serialization.load_pem_public_key(data)
        )
    except (OSError, ValueError, TypeError) as error:
        kind = "private" if private else "public"
        raise ConfigError(f"{path}: not a readable PEM {kind} key: {error}") from None
    wanted = ed25519.Ed25519PrivateKey if private else ed25519.Ed25519PublicKey
    if not isinstance(key, wanted):
        raise ConfigError(f"{path}: not an Ed25519 key")
    return key


def signature_problem(contents: BundleContents, public_key: Path) -> str | None:
    """What is wrong with the bundle's signature for ``public_key``, checked on a bundle already read
    (the manifest and signature it was read with, so that what is verified is what is loaded); None when
    ``bundle.sig`` signs this bundle's digest with that key.

    Raises:
        ConfigError: a public key that is not a readable Ed25519 key.
    """
    from cryptography.exceptions import InvalidSignature

    key = load_key(public_key, private=False)
    if contents.signature is None:
        return f"no {SIGNATURE_FILE}: the bundle is not signed"
    try:
        record = json.loads(contents.signature.decode("utf-8"))
        signature = base64.b64decode(record["signature"], validate=True)
        signed_digest = record["bundle_sha256"]
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        return f"{SIGNATURE_FILE}: unreadable ({error})"
    if signed_digest != contents.digest:
        return f"{SIGNATURE_FILE} signs bundle {signed_digest}, this bundle is {contents.digest}"
    try:
        key.verify(signature, contents.digest.encode())
    except InvalidSignature:
        return f"{SIGNATURE_FILE}: the signature does not verify with {public_key.name}"
    return None
