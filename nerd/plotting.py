"""matplotlib for the PNGs the stages write (training cards, bench, reproduction): headless and atomic.

matplotlib comes with the train extra; it is imported only when a plot is drawn, so importing this
module costs nothing on a serving host.
"""

from __future__ import annotations

import io
from pathlib import Path
from typing import Any

from nerd.atomic import atomic_write_bytes


def pyplot() -> Any:
    """matplotlib's pyplot on the Agg backend (no display on servers)."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    return plt


def save_png(figure: Any, path: Path, *, dpi: int = 110) -> None:
    """Write a figure as a PNG, atomically."""
    buffer = io.BytesIO()
    figure.savefig(buffer, format="png", dpi=dpi, bbox_inches="tight")
    atomic_write_bytes(path, buffer.getvalue())
