"""The training directory an export starts from, checked before any exporter runs.

A ``save_pretrained`` token-classification directory: ``config.json`` with a ``*ForTokenClassification``
architecture and ``id2label``, safetensors (or PyTorch) weights, and a fast tokenizer (``tokenizer.json``).
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.errors import InputError
from nerd.tagging.encoding import shapes_read_by

WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")
CARD_FILES = ("training_card.json", "training_card.md")
DEFAULT_MAX_LENGTH = 128


@dataclass(frozen=True)
class Checkpoint:
    """A trained token classifier on disk."""

    path: Path
    labels: list[str]
    max_length: int
    card: dict[str, Any] | None
    word_shapes: bool = False  # trained with word shapes as token types (nerd.word_shapes)

    @property
    def name(self) -> str:
        return self.path.resolve().name


def _read_json(path: Path) -> Any:
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise InputError("missing", path=path) from None
    except (OSError, UnicodeDecodeError) as error:
        raise InputError(f"cannot read: {error}", path=path) from None
    except json.JSONDecodeError as error:
        raise InputError(f"not JSON: {error.msg}", path=path, line=error.lineno) from None


def _labels(config: dict[str, Any], path: Path) -> list[str]:
    id2label = config.get("id2label")
    if not isinstance(id2label, dict) or not id2label:
        raise InputError("no id2label: not a trained token classifier", path=path, field="id2label")
    try:
        by_index = {int(index): str(label) for index, label in id2label.items()}
    except ValueError:
        raise InputError("id2label keys must be integers", path=path, field="id2label") from None
    if sorted(by_index) != list(range(len(by_index))):
        raise InputError("id2label must number the labels 0..n-1", path=path, field="id2label")
    return [by_index[index] for index in range(len(by_index))]


def _check_safetensors(path: Path) -> None:
    """Read the weights file's header and tensor table, so a corrupt file fails before the exporter runs."""
    from safetensors import SafetensorError, safe_open

    try:
        with safe_open(str(path), framework="np") as weights:
            if not list(weights.keys()):
                raise InputError("holds no tensors", path=path)
    except (SafetensorError, OSError) as error:
        raise InputError(f"corrupt weights file: {error}", path=path) from None


def load_checkpoint(model_dir: str | Path, *, max_length: int | None = None) -> Checkpoint:
    """Check a training directory and read what the export needs from it.

    Raises:
        InputError: naming the missing or wrong file and field.
    """
    path = Path(model_dir)
    if not path.is_dir():
        raise InputError("not a directory", path=path)
    config = _read_json(path / "config.json")
    architectures = config.get("architectures") or []
    if not any(str(name).endswith("ForTokenClassification") for name in architectures):
        raise InputError(
            f"architecture {architectures or 'unknown'} is not a token classifier",
            path=path / "config.json",
            field="architectures",
        )
    labels = _labels(config, path / "config.json")
    if not any((path / name).is_file() for name in WEIGHT_FILES):
        raise InputError(f"no weights ({' or '.join(WEIGHT_FILES)})", path=path)
    if (path / WEIGHT_FILES[0]).is_file():
        _check_safetensors(path / WEIGHT_FILES[0])
    if not (path / "tokenizer.json").is_file():
        raise InputError("no tokenizer.json: the export needs a fast tokenizer", path=path)
    card = _read_json(path / "training_card.json") if (path / "training_card.json").is_file() else None
    trained_length = (card or {}).get("hyperparameters", {}).get("max_length")
    length = max_length or trained_length or DEFAULT_MAX_LENGTH
    positions = config.get("max_position_embeddings")
    if isinstance(positions, int) and length > positions:
        raise InputError(f"max length {length} exceeds the model's {positions} positions", path=path)
    shapes = shapes_read_by(config.get("word_shapes"), path / "config.json")
    return Checkpoint(path=path, labels=labels, max_length=int(length), card=card, word_shapes=shapes)
