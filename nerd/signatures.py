"""Ed25519 signatures over a bundle's digest: where a model came from, checkable inside a closed network.

``nerd sign`` writes ``bundle.sig`` beside ``bundle.json``: the bundle digest (which covers the manifest
and, through it, every file), the signature over it, and the signing key's fingerprint. ``nerd verify
--public-key`` and ``nerd serve --require-signature`` check it (``bundle_signature.py``). Keys are PEM
files, as ``nerd sign --generate-key`` or ``openssl genpkey -algorithm ed25519`` write them.
"""

from __future__ import annotations

import base64
import json
import os
from pathlib import Path

from nerd.atomic import OutputError, atomic_write_bytes, atomic_write_text
from nerd.bundle_checks import verified_bundle
from nerd.bundle_signature import ALGORITHM, crypto, fingerprint, load_key
from nerd.errors import ConfigError
from nerd.model_bundle import SIGNATURE_FILE


def generate_key(private_path: Path) -> Path:
    """A new Ed25519 key pair: ``private_path`` (PEM, owner-only from its creation) and
    ``private_path.pub``. Neither file is ever overwritten, and no half pair is left behind.

    Raises:
        ConfigError: either file exists already.
    """
    serialization, ed25519 = crypto()
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


def sign_bundle(directory: Path, private_key: Path) -> dict[str, str]:
    """Write ``bundle.sig`` for the bundle as it is now, if it is intact (only such a bundle is worth a
    signature); the digest signed is that of the manifest the check read. Returns what was written.

    Raises:
        ModelBundleError: an altered, incomplete or unreadable bundle.
    """
    digest = verified_bundle(directory, keep_bytes=False).digest
    key = load_key(private_key, private=True)
    record = {
        "algorithm": ALGORITHM,
        "bundle_sha256": digest,
        "signature": base64.b64encode(key.sign(digest.encode())).decode(),
        "key_sha256": fingerprint(key.public_key()),
    }
    atomic_write_text(directory / SIGNATURE_FILE, json.dumps(record, indent=2) + "\n")
    return record
