"""Continuing a trained student (``nerd train --base-model CHECKPOINT``), as an EvoKD round does.

A nerd checkpoint is a token classifier already: when its labels are the run's labels, its
classification head is kept and training continues from it; other labels would give the head's rows
another meaning, so they are an error. ``--with-earlier-data`` trains on the data the checkpoint was
trained on as well, as its training card lists it, each file checked against its recorded sha256.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

from nerd.checksums import file_sha256
from nerd.errors import ConfigError, InputError
from nerd.json_files import read_json
from nerd.training.card import CARD_JSON
from nerd.training.label_space import LabelSpace

_PLACEHOLDER = re.compile(r"LABEL_\d+")


def trained_labels(config: Any) -> tuple[str, ...] | None:
    """The labels of a trained token classifier, in id order; None for a bare encoder."""
    id2label = getattr(config, "id2label", None) or {}
    architectures = getattr(config, "architectures", None) or []
    labels = tuple(id2label[key] for key in sorted(id2label, key=int))
    if not any(name.endswith("ForTokenClassification") for name in architectures):
        return None
    if not labels or all(_PLACEHOLDER.fullmatch(label) for label in labels):
        return None
    return labels


def check_continuation(path: Path, config: Any, space: LabelSpace) -> str | None:
    """A note when the run continues a trained classifier; None for a bare encoder.

    Raises:
        ConfigError: a trained classifier whose labels differ from the run's.
    """
    labels = trained_labels(config)
    if labels is None:
        return None
    if labels != space.labels:
        raise ConfigError(
            f"{path} is a token classifier trained on {', '.join(labels)}; this run's data gives "
            f"{', '.join(space.labels)}. Continue it with data of the same types (a --label-map can "
            "rename them), or start from a bare encoder"
        )
    return f"continuing from the trained classifier {path}: its classification head is kept"


def earlier_data(checkpoint: Path) -> tuple[list[Path], list[Path]]:
    """(distilled files, original files) the checkpoint was trained on, from its training card.

    Raises:
        InputError: no training card, or a listed file that is missing or has changed since.
    """
    card = read_json(
        checkpoint / CARD_JSON, missing="--with-earlier-data needs a nerd checkpoint: no training card here"
    )
    if not isinstance(card, dict):
        raise InputError("not a training card", path=checkpoint / CARD_JSON)
    found: dict[str, list[Path]] = {"distilled": [], "original": []}
    for role, paths in found.items():
        for entry in (card.get("data") or {}).get(role, {}).get("files", []):
            path = Path(entry["path"])
            if not path.is_file():
                raise InputError(
                    f"the checkpoint's {role} data is gone; pass the data yourself instead of "
                    "--with-earlier-data",
                    path=path,
                )
            if file_sha256(path) != entry["sha256"]:
                raise InputError(
                    f"the checkpoint's {role} data has changed since it was trained (sha256 differs); pass "
                    "the data yourself instead of --with-earlier-data",
                    path=path,
                )
            paths.append(path)
    return found["distilled"], found["original"]
