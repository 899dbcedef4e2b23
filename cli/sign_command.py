"""``nerd sign``: an Ed25519 signature over a bundle, so that a closed network can tell where it came from."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nerd.cli.console import console, exit_on_error
from nerd.errors import ConfigError


def sign_cli(
    bundles: Annotated[
        list[Path] | None,
        typer.Argument(help="Bundle directories (onnx-<variant>/) to sign.", show_default=False),
    ] = None,
    private_key: Annotated[
        Path | None,
        typer.Option(help="Ed25519 private key (PEM) to sign with.", dir_okay=False, exists=True),
    ] = None,
    generate_key: Annotated[
        Path | None,
        typer.Option(
            help="Write a new key pair: this file (private, owner-only) and FILE.pub (give that to the "
            "serving side: nerd verify/serve --public-key). Never overwrites.",
            dir_okay=False,
        ),
    ] = None,
) -> None:
    """Sign bundles (bundle.sig over the bundle digest), or make a key pair with --generate-key."""
    with exit_on_error():
        from nerd.signatures import generate_key as make_key
        from nerd.signatures import sign_bundle

        if generate_key is not None:
            public = make_key(generate_key)
            console.print(f"private key {generate_key} (keep it on the signing side), public key {public}")
            if not bundles:
                return
        if not bundles:
            raise ConfigError("give bundle directories to sign, or --generate-key FILE")
        if private_key is None and generate_key is None:
            raise ConfigError("--private-key FILE: the Ed25519 key to sign with")
        key = private_key or generate_key
        assert key is not None
        for bundle in bundles:
            record = sign_bundle(bundle, key)
            console.print(
                f"signed {bundle}: bundle {record['bundle_sha256']}, key {record['key_sha256'][:16]}"
            )
