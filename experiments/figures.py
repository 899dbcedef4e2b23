"""The report's PNG figures: the schedules' curves (the paper's Figure 3) and F1 per strategy."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from nerd.experiments.grid import Setting
from nerd.experiments.tables import Entry
from nerd.plotting import pyplot, save_png
from nerd.training.schedules import parse_schedule, schedule_weights


def plot_schedule_curves(schedules: Sequence[str], epochs: int, path: Path) -> None:
    """w0, the distilled share, per epoch: one panel per family (sigmoid, power, the rest)."""
    plt = pyplot()
    families: dict[str, list[str]] = {}
    for name in schedules:
        kind = parse_schedule(name).kind
        families.setdefault(kind if kind in {"sigmoid", "power"} else "other", []).append(name)
    figure, axes = plt.subplots(1, len(families), figsize=(4.2 * len(families), 3.2), squeeze=False)
    x = list(range(1, epochs + 1))
    for axis, (family, names) in zip(axes[0], families.items(), strict=True):
        for name in sorted(names, key=lambda n: parse_schedule(n).parameter or 0.0):
            plan = schedule_weights(name, epochs)
            # "all" trains both sources in full: its w0 is 1, drawn dashed so it is not taken for "distilled".
            style = "--" if name == "all" else "-"
            axis.plot(x, [w0 for w0, _ in plan], style, marker=".", label=name)
        axis.set(title=family, xlabel="epoch", ylabel="distilled share w0", ylim=(-0.05, 1.05))
        axis.legend(fontsize="small")
    save_png(figure, path)
    plt.close(figure)


def plot_f1_by_row(
    rows: Sequence[tuple[str, str, dict[float | None, Setting]]],
    table: dict[Setting, Entry],
    decays: Sequence[float | None],
    title: str,
    path: Path,
) -> None:
    """Mean micro F1 with one-std error bars, one marker per decay setting, one column per row."""
    plt = pyplot()
    figure, axis = plt.subplots(figsize=(max(5.0, 0.55 * len(rows) + 2), 3.6))
    width = 0.8 / max(1, len(decays))
    for index, decay in enumerate(decays):
        xs, means, stds = [], [], []
        for position, (_, _, by_decay) in enumerate(rows):
            entry = table.get(by_decay[decay])
            if entry is not None:
                xs.append(position + (index - (len(decays) - 1) / 2) * width)
                means.append(entry.mean)
                stds.append(entry.std)
        label = "constant lr" if decay is None else f"lr decay {decay:g}"
        axis.errorbar(xs, means, yerr=stds, fmt="o", capsize=3, label=label)
    axis.set_xticks(range(len(rows)), [name for name, _, _ in rows], rotation=45, ha="right")
    axis.set(ylabel="dev micro F1 (mean ± std)", title=title)
    axis.grid(axis="y", alpha=0.3)
    axis.legend(fontsize="small")
    save_png(figure, path)
    plt.close(figure)
