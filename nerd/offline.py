"""No Hugging Face library tries the network from nerd: every model loads from local paths."""

from __future__ import annotations

import os


def go_offline() -> None:
    """Set the hub's offline switches for this process and any it starts (idempotent)."""
    os.environ["HF_HUB_OFFLINE"] = "1"
    os.environ["TRANSFORMERS_OFFLINE"] = "1"
    os.environ.setdefault("HF_HUB_DISABLE_TELEMETRY", "1")
    os.environ.setdefault("HF_DATASETS_OFFLINE", "1")
