"""What a run's training card says: its data, schedule, hyperparameters, history and library versions."""

from __future__ import annotations

import platform
from importlib import metadata
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from nerd.training.preparation import Prepared
    from nerd.training.records import EpochRecord

_LIBRARIES = ("nerd", "torch", "transformers", "tokenizers", "accelerate", "safetensors", "seqeval", "numpy")


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries a run depends on (None where one is missing)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def build_card(
    prepared: Prepared,
    seed: int,
    history: list[EpochRecord],
    best_epoch: int,
    status: str,
    wall_seconds: float,
    device: str,
    precision: str,
    processes: int = 1,
) -> dict[str, Any]:
    """The card's content as a JSON-ready dict (``processes``: data-parallel processes, torchrun's)."""
    sources = {}
    for source in (prepared.distilled, prepared.soft, prepared.original, prepared.dev):
        if source is not None:
            sources[source.role] = {
                "files": [
                    {"path": f.path, "sha256": f.sha256, "sentences": f.sentences} for f in source.files
                ],
                "sentences": len(source),
            }
    best = next((row for row in history if row["epoch"] == best_epoch), None)
    return {
        "status": status,
        "seed": seed,
        "base_model": str(prepared.base_model.path),
        "base_model_type": prepared.base_model.config.model_type,
        "labels": list(prepared.label_space.labels),
        "label_map": prepared.label_map,
        "data": sources,
        "schedule": {
            "name": str(prepared.schedule),
            "w0": [round(w0, 6) for w0, _ in prepared.plan],
            "w1": [round(w1, 6) for _, w1 in prepared.plan],
        },
        "hyperparameters": prepared.hyperparameters.model_dump(),
        "device": device,
        "processes": processes,
        "precision": precision,
        "best_epoch": best_epoch,
        "best_dev": best["dev"] if best else None,
        "epochs_done": len(history),
        "history": history,
        "wall_seconds": round(wall_seconds, 2),
        "versions": library_versions(),
    }
