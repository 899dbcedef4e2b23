"""``nerd reproduce``: the paper's phases 1-3 as one resumable grid, with tables and figures."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.progress import Progress

from nerd.cli.console import console, exit_on_error, progress_bar

if TYPE_CHECKING:
    from nerd.experiments.config import GridConfig
    from nerd.experiments.grid import Cell
    from nerd.experiments.runner import GridData


def reproduce_cli(
    config: Annotated[
        Path,
        typer.Argument(
            help="Grid configuration (TOML), e.g. experiments/paper.toml; its paths are relative to the "
            "directory the command runs in.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Directory for the imported teacher data, one sub-directory per cell, and the report "
            "(reproduction.md, CSV tables, PNG figures). Run again with the same --out to resume.",
            show_default=False,
        ),
    ],
    dev: Annotated[
        Path | None,
        typer.Option(
            help="Score every cell on this CoNLL file instead of the config's dev file (e.g. the CoNLL-2003 "
            "test set, for the paper's exact setting). Use a new --out: results on another file do not mix."
        ),
    ] = None,
    seeds: Annotated[
        str | None,
        typer.Option(help="Comma-separated seeds instead of the config's, e.g. 1,2,3,4,5."),
    ] = None,
    results: Annotated[
        Path | None,
        typer.Option(
            help="Directory of finished cells' result.json files kept apart from --out (in git): read "
            "first, and every cell that finishes is written there too. Default: the config's `results` "
            "(docs/reproduction/cells for experiments/paper.toml), except with --dev.",
            show_default=False,
        ),
    ] = None,
    only: Annotated[
        list[str] | None,
        typer.Option(
            help="Train only the cells whose name matches this shell-style pattern, e.g. "
            "'*_decay-0.95_*' (repeatable); the report still shows every finished cell.",
            show_default=False,
        ),
    ] = None,
    report_only: Annotated[
        bool,
        typer.Option(
            "--report-only",
            help="Train nothing: write the tables and figures from the cells finished so far.",
        ),
    ] = False,
) -> None:
    """Reproduce the paper's experiments: teacher vs gold, groups A-E, and the mixing schedules."""
    with exit_on_error():
        from nerd.experiments.config import load_config
        from nerd.experiments.report import write_report
        from nerd.experiments.runner import finished_results, run_grid

        grid = load_config(config)
        overrides: dict[str, Any] = {}
        if dev is not None:
            # Another scored file is another experiment: the config's results would all be refused.
            overrides["dev"] = dev
            overrides["results"] = None
        if seeds is not None:
            from nerd.cli.train_command import parse_seeds

            overrides["seeds"] = parse_seeds(seeds)
        if results is not None:
            overrides["results"] = results
        if overrides:
            grid = grid.model_copy(update=overrides)
        data = _imported_teacher(grid, out)
        if not report_only:
            with progress_bar() as progress:
                observer = _GridProgress(progress, grid, data, out, config)
                run_grid(grid, data, out, observer, results_dir=grid.results, only=only)
        done = finished_results(grid, data, out, grid.results)
        written = write_report(grid, out, done, config_path=config)
        console.print(f"Report in {written}")


def _imported_teacher(grid: GridConfig, out: Path) -> GridData:
    """Import the two parts of the teacher's answer files once (phase 1 comes from the CoNLL part's gold
    scores)."""
    from nerd.annotation.import_run import run_import
    from nerd.experiments.runner import GridData

    parts = {"conll": (grid.teacher.conll, grid.teacher.gold), "bbc": (grid.teacher.bbc, None)}
    data_files: dict[str, Path] = {}
    for name, (source, gold) in parts.items():
        target = out / "teacher" / name
        data_files[name] = target / "data.jsonl"
        if (target / "report.json").is_file():
            _check_imported_from(target / "report.json", source)
            continue
        with console.status(f"Importing the teacher's {name} answers from {source}"):
            report = run_import(sources=[source], out=target, gold=gold)
        console.print(
            f"teacher {name}: {report['imported']} sentences imported, {report['rejected']} rejected "
            f"(see {target / 'rejects.jsonl'})"
        )
    return GridData(
        distilled={
            "none": [],
            "conll": [data_files["conll"]],
            "conll+bbc": [data_files["conll"], data_files["bbc"]],
        },
        original=list(grid.original),
        dev=grid.dev,
    )


def _check_imported_from(report_path: Path, source: Path) -> None:
    """An earlier import is reused only if it read the configured answer files (the cells' recipes hash its
    output, not where it came from)."""
    import json

    from nerd.errors import ConfigError

    report = json.loads(report_path.read_text(encoding="utf-8"))
    root = source.resolve()
    for entry in report.get("files", []):
        read = Path(entry["file"]).resolve()
        if read != root and root not in read.parents:
            raise ConfigError(
                f"{report_path.parent} was imported from {entry['file']}, not from {source}: "
                "use another --out for another teacher's answer files"
            )


class _GridProgress:
    """Two bars: cells of the grid, and batches of the current epoch."""

    def __init__(
        self, progress: Progress, grid: GridConfig, data: GridData, out: Path, config_path: Path
    ) -> None:
        self.progress = progress
        self.grid = grid
        self.data = data
        self.out = out
        self.config_path = config_path
        self.cells = progress.add_task("cells", total=None)
        self.epoch: Any = None

    def grid_started(self, total: int, finished: int) -> None:
        self.progress.update(self.cells, total=total, completed=finished)
        console.print(f"{total} cells, {finished} already finished, {total - finished} to train")

    def cell_started(self, cell: Cell, resumed: bool) -> Any:
        from nerd.training.trainer import Observer

        grid_progress = self

        class _Epochs(Observer):
            def epoch_started(self, epoch: int, epochs: int, batches: int) -> None:
                if grid_progress.epoch is not None:
                    grid_progress.progress.remove_task(grid_progress.epoch)
                grid_progress.epoch = grid_progress.progress.add_task(
                    f"{cell.slug} epoch {epoch}/{epochs}", total=batches
                )

            def batch_done(self, loss: float) -> None:
                grid_progress.progress.update(grid_progress.epoch, advance=1)

        self.progress.update(
            self.cells, description=f"cells ({'resuming' if resumed else 'training'} {cell.slug})"
        )
        return _Epochs()

    def cell_done(self, cell: Cell, result: dict[str, Any]) -> None:
        from nerd.experiments.report import write_report
        from nerd.experiments.runner import finished_results

        self.progress.update(self.cells, advance=1)
        console.print(
            f"{cell.slug}: dev micro F1 {result['dev']['micro']['f1']:.4f} ({result['wall_seconds']:.0f} s)"
        )
        # The report follows the grid, so a long run can be read (and a stopped one used) at any point.
        done = finished_results(self.grid, self.data, self.out, self.grid.results)
        write_report(self.grid, self.out, done, config_path=self.config_path)
