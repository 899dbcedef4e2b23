"""Run the grid's cells one after another, resumably: a finished cell is never re-run, a stopped one resumes.

Each cell trains in ``OUT/cells/<slug>/`` and ends with ``result.json`` (written atomically, last): its
presence is what "finished" means. A cell stopped mid-way resumes from its last epoch's checkpoint. The
weights of a finished cell are deleted (a grid of 200 cells would otherwise keep 18 GB of models nobody
serves); its training card and plots stay. A result records the recipe it came from (data checksums,
schedule, hyperparameters, seed, encoder), and a grid whose recipe changed refuses to mix old and new.
"""

from __future__ import annotations

import functools
import json
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from nerd.atomic import atomic_write_text
from nerd.checksums import file_sha256
from nerd.errors import ConfigError
from nerd.experiments.config import GridConfig
from nerd.experiments.grid import Cell, Setting, cells
from nerd.training.presets import PRESETS, Hyperparameters

RESULT = "result.json"
WEIGHT_FILES = ("model.safetensors", "pytorch_model.bin")


@dataclass(frozen=True)
class GridData:
    """The files each kind of training data comes from, once the teacher's answer files are imported."""

    distilled: dict[str, list[Path]]  # "none", "conll", "conll+bbc"
    original: list[Path]
    dev: Path


def hyperparameters(config: GridConfig, lr_decay: float | None) -> Hyperparameters:
    """The preset with the config's overrides and the cell's decay."""
    values = PRESETS[config.training.preset].model_dump()
    overrides = {
        "epochs": config.training.epochs,
        "learning_rate": config.training.learning_rate,
        "batch_size": config.training.batch_size,
        "max_length": config.training.max_length,
        "precision": config.training.precision,
    }
    values.update({key: value for key, value in overrides.items() if value is not None})
    values["lr_decay"] = lr_decay
    values["epoch_selection"] = config.training.epoch_selection
    return Hyperparameters.model_validate(values)


def recipe(
    cell: Cell, data: GridData, config: GridConfig, checksums: Callable[[Path], str]
) -> dict[str, Any]:
    """What decides a cell's result; two runs with equal recipes are the same experiment."""
    setting = cell.setting
    return {
        "distilled": {str(p): checksums(p) for p in data.distilled[setting.distilled]},
        "original": {str(p): checksums(p) for p in data.original} if setting.schedule != "distilled" else {},
        "dev": {str(data.dev): checksums(data.dev)},
        "schedule": setting.schedule,
        "hyperparameters": hyperparameters(config, setting.lr_decay).model_dump(),
        "base_model": str(config.training.base_model) if config.training.base_model else "default",
        "seed": cell.seed,
    }


def cell_dir(out: Path, cell: Cell) -> Path:
    return out / "cells" / cell.slug


def read_result(out: Path, cell: Cell) -> dict[str, Any] | None:
    path = cell_dir(out, cell) / RESULT
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise ConfigError(f"{path}: unreadable result ({error}); delete it to run the cell again") from None


def _check_recipe(cell: Cell, result: dict[str, Any], expected: dict[str, Any], out: Path) -> None:
    if result.get("recipe") == expected:
        return
    changed = sorted(key for key in expected if result.get("recipe", {}).get(key) != expected[key])
    raise ConfigError(
        f"{cell_dir(out, cell) / RESULT} was run with a different {', '.join(changed)}; "
        "write the new grid to another --out (or delete that cell to re-run it)"
    )


class GridObserver:
    """Progress hooks of a grid run; every method is optional."""

    def grid_started(self, total: int, finished: int) -> None:
        """Called once with the number of cells and how many are already finished."""

    def cell_started(self, cell: Cell, resumed: bool) -> Any:
        """Called before a cell trains; may return a ``nerd.training.trainer.Observer`` for its epochs."""

    def cell_done(self, cell: Cell, result: dict[str, Any]) -> None:
        """Called with a finished cell's result."""


def run_grid(
    config: GridConfig, data: GridData, out: Path, observer: GridObserver | None = None
) -> list[dict[str, Any]]:
    """Train every cell that has no result yet; return the results of all cells, in grid order.

    Raises:
        ConfigError: a finished cell whose recipe differs from the configuration's.
        TrainingInterrupted: Ctrl-C; the cell's checkpoint lets the next run resume it.
    """
    from nerd.training.checkpoints import read_progress
    from nerd.training.preparation import prepare
    from nerd.training.trainer import RunOptions, train_run

    observer = observer or GridObserver()
    checksums = functools.cache(file_sha256)
    grid = cells(config)
    recipes = {cell: recipe(cell, data, config, checksums) for cell in grid}
    finished: dict[Cell, dict[str, Any]] = {}
    for cell in grid:
        result = read_result(out, cell)
        if result is not None:
            _check_recipe(cell, result, recipes[cell], out)
            finished[cell] = result
    observer.grid_started(len(grid), len(finished))

    for setting, group in groupby(grid, key=lambda cell: cell.setting):
        pending = [cell for cell in group if cell not in finished]
        if not pending:
            continue
        prepared = prepare(
            distilled=data.distilled[setting.distilled],
            original=data.original,
            dev=data.dev,
            schedule=setting.schedule,
            hyperparameters=hyperparameters(config, setting.lr_decay),
            base_model=config.training.base_model,
            label_map=None,
        )
        for cell in pending:
            run_dir = cell_dir(out, cell)
            resumed = run_dir.is_dir() and read_progress(run_dir) is not None
            if run_dir.exists() and not resumed:
                shutil.rmtree(run_dir)  # stopped before its first checkpoint: nothing to keep
            epochs = observer.cell_started(cell, resumed)
            options = RunOptions(
                seed=cell.seed,
                out_dir=run_dir,
                resume=resumed,
                device=config.training.device,
                threads=config.training.threads,
            )
            run = train_run(prepared, options, epochs)
            result = _result(cell, setting, recipes[cell], run)
            atomic_write_text(run_dir / RESULT, json.dumps(result, indent=2) + "\n")
            for name in WEIGHT_FILES:
                (run_dir / name).unlink(missing_ok=True)
            finished[cell] = result
            observer.cell_done(cell, result)
    return [finished[cell] for cell in grid]


def _result(cell: Cell, setting: Setting, cell_recipe: dict[str, Any], run: Any) -> dict[str, Any]:
    return {
        "cell": cell.slug,
        "distilled": setting.distilled,
        "schedule": setting.schedule,
        "lr_decay": setting.lr_decay,
        "seed": cell.seed,
        "scored_epoch": run.best_epoch,
        "dev": run.best_scores,
        "wall_seconds": round(run.wall_seconds, 1),
        "mean_epoch_seconds": round(run.mean_epoch_seconds, 2),
        "trained_sentences": sum(
            row["distilled_sentences"] + row["original_sentences"] for row in run.history
        ),
        "recipe": cell_recipe,
    }
