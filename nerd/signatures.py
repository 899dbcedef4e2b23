"""Ed25519 signatures over a bundle's digest: where a model came from, checkable inside a closed network.

``nerd sign`` writes ``bundle.sig`` beside ``bundle.json``: the bundle digest (which covers the manifest
and, through it, every file), the signature over it, and the signing key's fingerprint. ``nerd verify
--public-key`` and ``nerd serve --require-signature`` check it. Keys are PEM files, as ``nerd sign
--generate-key`` or ``openssl genpkey -algorithm ed25519`` write them.
"""

from __future__ import annotations

import base64
import hashlib
import json
import os
from pathlib import Path
from typing import Any

from nerd.atomic import OutputError, atomic_write_bytes, atomic_write_text
from nerd.errors import ConfigError, ModelBundleError
from nerd.model_bundle import SIGNATURE_FILE, BundleContents, verified_bundle

ALGORITHM = "ed25519"


def _crypto() -> Any:
    try:
        from cryptography.hazmat.primitives import serialization
        from cryptography.hazmat.primitives.asymmetric import ed25519
    except ImportError:
        raise ConfigError("signatures need the cryptography package: pip install cryptography") from None
    return serialization, ed25519


def fingerprint(public_key: Any) -> str:
    """sha256 of the raw public key, the short name a signature gives its key."""
    serialization, _ = _crypto()
    raw = public_key.public_bytes(serialization.Encoding.Raw, serialization.PublicFormat.Raw)
    return hashlib.sha256(raw).hexdigest()


def generate_key(private_path: Path) -> Path:
    """A new Ed25519 key pair: ``private_path`` (PEM, owner-only from its creation) and
    ``private_path.pub``. Neither file is ever overwritten, and no half pair is left behind.

    Raises:
        ConfigError: either file exists already.
    """
    serialization, ed25519 = _crypto()
    public_path = private_path.with_name(private_path.name + ".pub")
    for path in (private_path, public_path):
        if os.path.lexists(path):
            raise ConfigError(f"{path}: already exists; a key is never overwritten")
    key = ed25519.Ed25519PrivateKey.generate()
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    )
    public = key.public_key().public_bytes(
        serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    try:
        atomic_write_bytes(private_path, private, mode=0o600, exclusive=True)
    except OutputError as error:
        raise ConfigError(f"{error}; a key is never overwritten") from None
    try:
        atomic_write_bytes(public_path, public, exclusive=True)
    except OutputError as error:
        private_path.unlink()  # made by this call a moment ago: a pair or nothing
        raise ConfigError(f"{error}; a key is never overwritten") from None
    return public_path


def _load(path: Path, *, private: bool) -> Any:
    serialization, ed25519 = _crypto()
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


def sign_bundle(directory: Path, private_key: Path) -> dict[str, str]:
    """Write ``bundle.sig`` for the bundle as it is now, if it is intact (only such a bundle is worth a
    signature); the digest signed is that of the manifest the check read. Returns what was written.

    Raises:
        ModelBundleError: an altered, incomplete or unreadable bundle.
    """
    digest = verified_bundle(directory, keep_bytes=False).digest
    key = _load(private_key, private=True)
    record = {
        "algorithm": ALGORITHM,
        "bundle_sha256": digest,
        "signature": base64.b64encode(key.sign(digest.encode())).decode(),
        "key_sha256": fingerprint(key.public_key()),
    }
    atomic_write_text(directory / SIGNATURE_FILE, json.dumps(record, indent=2) + "\n")
    return record


def check_signature_of(contents: BundleContents, public_key: Path) -> str:
    """The signing key's fingerprint when ``bundle.sig`` signs this bundle's digest with ``public_key``,
    checked on a bundle already read: the manifest and signature it was read with, so that what is
    verified is what the caller goes on to load.

    Raises:
        ModelBundleError: no signature, another bundle's, another key's, or a forged one.
    """
    from cryptography.exceptions import InvalidSignature

    key = _load(public_key, private=False)
    directory = contents.directory
    if contents.signature is None:
        raise ModelBundleError(f"no {SIGNATURE_FILE}: the bundle is not signed", path=directory)
    try:
        record = json.loads(contents.signature.decode("utf-8"))
        signature = base64.b64decode(record["signature"], validate=True)
        signed_digest = record["bundle_sha256"]
    except (ValueError, KeyError, TypeError, RecursionError) as error:
        raise ModelBundleError(f"{SIGNATURE_FILE}: unreadable ({error})", path=directory) from None
    digest = contents.digest
    if signed_digest != digest:
        raise ModelBundleError(
            f"{SIGNATURE_FILE} signs bundle {signed_digest}, this bundle is {digest}", path=directory
        )
    try:
        key.verify(signature, digest.encode())
    except InvalidSignature:
        raise ModelBundleError(
            f"{SIGNATURE_FILE}: the signature does not verify with {public_key.name}", path=directory
        ) from None
    return fingerprint(key)
