"""``nerd wheelhouse``: the wheels to carry into a closed network, pinned by hash."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer

from nerd.cli.console import console, exit_on_error


def wheelhouse_cli(
    out: Annotated[
        Path,
        typer.Argument(
            help="Directory for the wheels, requirements.txt, SHA256SUMS and the default model.",
            file_okay=False,
            show_default=False,
        ),
    ],
    extras: Annotated[
        list[str] | None,
        typer.Option(
            "--extra",
            help="Extras to include (repeat): cpu or gpu (the serving runtime), openvino (the second CPU "
            "runtime, --runtime openvino), annotate (an LLM hosted inside the network), train, export, "
            "openvino-export, review, dev. Default: cpu and openvino.",
        ),
    ] = None,
    model: Annotated[
        bool,
        typer.Option("--model/--no-model", help="Copy the default English model into OUT/models/."),
    ] = True,
) -> None:
    """Download and build every wheel nerd needs (run it on a connected machine of the target's platform)."""
    with exit_on_error():
        from nerd.wheelhouse import build_wheelhouse

        chosen = extras or ["cpu", "openvino"]
        with console.status(f"pip wheel nerd[{','.join(chosen)}] into {out}"):
            wheels = build_wheelhouse(out, chosen, include_model=model)
        size = sum(w.path.stat().st_size for w in wheels)
        console.print(f"{len(wheels)} wheels, {size / 1e6:.1f} MB, in {out}")
        console.print("Carry the directory across, check it with `sha256sum -c SHA256SUMS`, then:")
        requirements = out / "requirements.txt"
        console.print(f"  pip install --no-index --find-links {out} --require-hashes -r {requirements}")
