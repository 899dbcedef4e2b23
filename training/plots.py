"""PNG plots of a run: the schedule's curve (like the paper's Figure 3) and the learning curves."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nerd.plotting import pyplot, save_png
from nerd.training.records import EpochRecord


def plot_schedule(plan: Sequence[tuple[float, float]], name: str, path: Path) -> None:
    """Share of each source per epoch."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(5, 3))
    epochs = list(range(1, len(plan) + 1))
    axis.plot(epochs, [w0 for w0, _ in plan], marker="o", label="distilled (w0)")
    axis.plot(epochs, [w1 for _, w1 in plan], marker="s", label="original (w1)")
    axis.set(xlabel="epoch", ylabel="share of the source", title=f"schedule {name}", ylim=(-0.05, 1.05))
    axis.legend()
    save_png(figure, path)
    plt.close(figure)


def plot_learning_curves(history: Sequence[EpochRecord], path: Path) -> None:
    """Training loss and dev micro F1 per epoch."""
    plt = pyplot()
    figure, loss_axis = plt.subplots(figsize=(6, 3.5))
    epochs = [row["epoch"] for row in history]
    loss_axis.plot(
        epochs,
        [float("nan") if row["loss"] is None else row["loss"] for row in history],
        color="tab:red",
        marker=".",
        label="train loss",
    )
    loss_axis.set(xlabel="epoch", ylabel="train loss")
    f1_axis = loss_axis.twinx()
    f1_axis.plot(
        epochs,
        # Epochs not scored (epoch selection "last") leave gaps rather than a misleading line.
        [float("nan") if row["dev"] is None else row["dev"]["micro"]["f1"] for row in history],
        color="tab:blue",
        marker="o",
        label="dev micro F1",
    )
    f1_axis.set(ylabel="dev micro F1")
    figure.legend(loc="lower center", ncol=2, bbox_to_anchor=(0.5, -0.14))
    save_png(figure, path)
    plt.close(figure)
