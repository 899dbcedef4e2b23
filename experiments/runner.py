"""Run the grid's cells one after another, resumably: a finished cell is never re-run, a stopped one resumes.

Each cell trains in ``OUT/cells/<slug>/`` and ends with ``result.json`` (written atomically, last): its
presence is what "finished" means (``results.py``: a results directory kept in git counts as well). A cell
stopped mid-way resumes from its last epoch's checkpoint. The weights of a finished cell are deleted (a
grid of 200 cells would otherwise keep 18 GB of models nobody serves); its training card and plots stay.
A result records the recipe it came from (data checksums, schedule, hyperparameters, seed, encoder), and
a grid whose recipe changed refuses to mix old and new. The recipe names data by content, not by path,
so a result travels between machines and clones.
"""

from __future__ import annotations

import fnmatch
import functools
import shutil
from collections.abc import Callable
from dataclasses import dataclass
from itertools import groupby
from pathlib import Path
from typing import Any

from nerd.checksums import file_sha256
from nerd.errors import ConfigError
from nerd.experiments.config import GridConfig
from nerd.experiments.grid import Cell, Setting, cells
from nerd.experiments.results import CellResults, cell_dir, machine
from nerd.training.presets import PRESETS, Hyperparameters

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
    """What decides a cell's result; two runs with equal recipes are the same experiment.

    Data files are named by their sha256 alone: where a clone keeps ``../shared/data`` or writes ``--out``
    does not change the experiment.
    """
    setting = cell.setting
    return {
        "distilled": [checksums(p) for p in data.distilled[setting.distilled]],
        "original": [checksums(p) for p in data.original] if setting.schedule != "distilled" else [],
        "dev": checksums(data.dev),
        "schedule": setting.schedule,
        "hyperparameters": hyperparameters(config, setting.lr_decay).model_dump(),
        "base_model": str(config.training.base_model) if config.training.base_model else "default",
        "seed": cell.seed,
    }


def _check_recipe(path: Path, result: dict[str, Any], expected: dict[str, Any]) -> None:
    if result.get("recipe") == expected:
        return
    recorded = result.get("recipe")
    recorded = recorded if isinstance(recorded, dict) else {}
    changed = sorted(key for key in expected if recorded.get(key) != expected[key])
    raise ConfigError(
        f"{path} was run with a different {', '.join(changed) or 'recipe'}; "
        "write the new grid to another --out and results directory (or delete that result to re-run the cell)"
    )


def finished_results(
    config: GridConfig, data: GridData, out: Path, results_dir: Path | None = None
) -> list[dict[str, Any]]:
    """The results of the grid's finished cells, in grid order, each checked against the grid's recipe.

    Raises:
        ConfigError: an unreadable result, or one whose recipe differs from the configuration's.
    """
    checksums = functools.cache(file_sha256)
    grid = cells(config)
    recipes = {cell: recipe(cell, data, config, checksums) for cell in grid}
    return list(_checked(grid, CellResults(out, results_dir), recipes).values())


def _checked(
    grid: list[Cell], store: CellResults, recipes: dict[Cell, dict[str, Any]]
) -> dict[Cell, dict[str, Any]]:
    finished: dict[Cell, dict[str, Any]] = {}
    for cell in grid:
        found = store.find(cell)
        if found is not None:
            _check_recipe(found[0], found[1], recipes[cell])
            finished[cell] = found[1]
    return finished


def selected(grid: list[Cell], patterns: list[str] | None) -> list[Cell]:
    """The cells whose slug matches one of the shell-style patterns (all of them without patterns).

    Raises:
        ConfigError: a pattern that matches no cell (a typo would otherwise train nothing, silently).
    """
    if not patterns:
        return grid
    for pattern in patterns:
        if not any(fnmatch.fnmatchcase(cell.slug, pattern) for cell in grid):
            raise ConfigError(
                f"--only {pattern!r} matches no cell of the grid (cells are named like {grid[0].slug})"
            )
    return [cell for cell in grid if any(fnmatch.fnmatchcase(cell.slug, p) for p in patterns)]


class GridObserver:
    """Progress hooks of a grid run; every method is optional."""

    def grid_started(self, total: int, finished: int) -> None:
        """Called once with the number of cells and how many are already finished."""

    def cell_started(self, cell: Cell, resumed: bool) -> Any:
        """Called before a cell trains; may return a ``nerd.training.trainer.Observer`` for its epochs."""

    def cell_done(self, cell: Cell, result: dict[str, Any]) -> None:
        """Called with a finished cell's result."""


def run_grid(
    config: GridConfig,
    data: GridData,
    out: Path,
    observer: GridObserver | None = None,
    *,
    results_dir: Path | None = None,
    only: list[str] | None = None,
) -> list[dict[str, Any]]:
    """Train every cell that has no result yet; return the results of the finished cells, in grid order.

    ``results_dir``: finished results kept apart from ``out`` (in git); read first, and every cell that
    finishes is recorded there too. ``only``: train just the cells whose slug matches one of these
    shell-style patterns (``*_decay-0.95_*``); the others' results are still checked and returned.

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
    store = CellResults(out, results_dir)
    recipes = {cell: recipe(cell, data, config, checksums) for cell in grid}
    finished = _checked(grid, store, recipes)
    for cell in finished:
        store.adopt(cell)
    to_train = selected(grid, only)
    observer.grid_started(len(to_train), sum(cell in finished for cell in to_train))

    for setting, group in groupby(to_train, key=lambda cell: cell.setting):
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
            store.record(cell, result)
            for name in WEIGHT_FILES:
                (run_dir / name).unlink(missing_ok=True)
            finished[cell] = result
            observer.cell_done(cell, result)
    return [finished[cell] for cell in grid if cell in finished]


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
        # Where and how it ran: a result travels, so the machine that trained it goes with it.
        "machine": machine(),
        "device": run.card.get("device"),
        "precision": run.card.get("precision"),
        "versions": run.card.get("versions"),
        "recipe": cell_recipe,
    }
