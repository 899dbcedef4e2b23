"""Where the English model that ships with nerd lives, so ``nerd serve`` works without ``--model``.

The bundle is committed under ``models/`` of the project (the Docker image copies it to
``/models/default`` and points ``NERD_MODEL_DIR`` there); it is found beside the ``nerd`` package of a
checkout or an editable install. A wheel does not carry it: ``nerd wheelhouse`` copies it next to the
wheels instead.
"""

from __future__ import annotations

from pathlib import Path

DEFAULT_MODEL_NAME = "en-conll-minilm-int8"
PROJECT_MODELS = Path(__file__).resolve().parent.parent / "models"


def default_model_dir() -> Path | None:
    """The shipped bundle's directory, or None where nerd runs without a checkout beside it."""
    candidate = PROJECT_MODELS / DEFAULT_MODEL_NAME
    return candidate if (candidate / "bundle.json").is_file() else None
