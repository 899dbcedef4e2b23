"""Where a grid's finished cells are found: the run's own ``OUT/cells`` and a results directory that travels.

A cell's ``result.json`` (its recipe and scores, a few KB) is what "finished" means. Training state and
weights stay in ``OUT/cells/<slug>/`` on the machine that trained; a results directory kept in the
repository (``docs/reproduction/cells`` for ``experiments/paper.toml``) holds only the results, so a grid
resumed on another machine, or in a fresh clone, trains nothing twice. A result found in either place is
accepted only if its recipe is the grid's; the results directory is read first.
"""

from __future__ import annotations

import json
import platform
from pathlib import Path
from typing import Any

from nerd.atomic import atomic_write_text
from nerd.errors import ConfigError
from nerd.experiments.grid import Cell
from nerd.training.devices import available_cores

RESULT = "result.json"


def cell_dir(out: Path, cell: Cell) -> Path:
    """Where a cell trains: its checkpoints, training card and plots."""
    return out / "cells" / cell.slug


class CellResults:
    """The finished cells of one grid run: ``OUT/cells/<slug>/result.json`` and, if given,
    ``RESULTS/<slug>/result.json``."""

    def __init__(self, out: Path, results_dir: Path | None = None) -> None:
        self.out = out
        self.results_dir = results_dir

    def _paths(self, cell: Cell) -> list[Path]:
        shared = [self.results_dir / cell.slug / RESULT] if self.results_dir is not None else []
        return [*shared, cell_dir(self.out, cell) / RESULT]

    def find(self, cell: Cell) -> tuple[Path, dict[str, Any]] | None:
        """The first result of ``cell`` and the file it came from, or None if it has not finished."""
        for path in self._paths(cell):
            if path.is_file():
                return path, _read(path)
        return None

    def read(self, cell: Cell) -> dict[str, Any] | None:
        found = self.find(cell)
        return None if found is None else found[1]

    def record(self, cell: Cell, result: dict[str, Any]) -> None:
        """Write a newly finished cell's result everywhere it is kept (each file atomically)."""
        text = json.dumps(result, indent=2) + "\n"
        for path in reversed(self._paths(cell)):  # the run's own copy first: it is what resumes
            atomic_write_text(path, text)

    def adopt(self, cell: Cell) -> bool:
        """Copy a result that only ``OUT/cells`` holds into the results directory; True if one was copied.

        A grid run before the results directory existed (or with another one) keeps its cells this way.
        """
        if self.results_dir is None:
            return False
        shared, own = self._paths(cell)
        if shared.is_file() or not own.is_file():
            return False
        atomic_write_text(shared, own.read_text(encoding="utf-8"))
        return True


def _read(path: Path) -> dict[str, Any]:
    try:
        result = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: unreadable result ({error}); delete it to run the cell again") from None
    if not isinstance(result, dict):
        raise ConfigError(f"{path}: a result is a JSON object; delete it to run the cell again")
    return result


def _cpu_name() -> str:
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                return line.split(":", 1)[1].strip()
    except OSError:
        pass
    return platform.processor() or "unknown CPU"


def machine() -> str:
    """This machine in one line: CPU, usable cores, operating system."""
    return f"{_cpu_name()}, {available_cores()} cores usable, {platform.system()} {platform.release()}"
