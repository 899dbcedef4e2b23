"""The cells of the grid: which data and schedule each trains on, named so a finished one is found again.

A cell is (distilled data, schedule, learning-rate decay, seed). Phase 2's groups and phase 3's
strategies are views of the same cells: group E and phase 3's ``simple-mix`` are one cell, run once.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from nerd.experiments.config import GridConfig

Distilled = Literal["none", "conll", "conll+bbc"]

# The paper's Table 2 groups: (description, distilled data, schedule).
GROUP_RECIPES: dict[str, tuple[str, Distilled, str]] = {
    "A": ("original only", "none", "original"),
    "B": ("distilled CoNLL only", "conll", "distilled"),
    "C": ("distilled CoNLL + BBC", "conll+bbc", "distilled"),
    "D": ("simple mix: distilled CoNLL, then original", "conll", "simple-mix"),
    "E": ("simple mix: distilled CoNLL + BBC, then original", "conll+bbc", "simple-mix"),
}


@dataclass(frozen=True, order=True)
class Setting:
    """Everything of a cell but its seed: the seeds of one setting make a table entry."""

    distilled: Distilled
    schedule: str
    lr_decay: float | None

    @property
    def slug(self) -> str:
        """A directory name: ``conll+bbc_sigmoid-8_decay-0.95``."""
        decay = "constant" if self.lr_decay is None else f"decay-{self.lr_decay:g}"
        return f"{self.distilled}_{self.schedule.replace(':', '-')}_{decay}"


@dataclass(frozen=True, order=True)
class Cell:
    """One training run of the grid."""

    setting: Setting
    seed: int

    @property
    def slug(self) -> str:
        return f"{self.setting.slug}_seed-{self.seed}"


def decays(config: GridConfig) -> list[float | None]:
    """The constant rate first, then each configured decay."""
    return [None, *config.lr_decays]


def group_setting(group: str, lr_decay: float | None) -> Setting:
    _, distilled, schedule = GROUP_RECIPES[group]
    return Setting(distilled, schedule, lr_decay)


def strategy_setting(schedule: str, lr_decay: float | None) -> Setting:
    """Phase 3 trains on all the distilled data (CoNLL + BBC) and the original data."""
    return Setting("conll+bbc", schedule, lr_decay)


def settings(config: GridConfig) -> list[Setting]:
    """Every distinct setting in the order they run: at a constant rate first (phase 2's groups, then the
    schedules in the config's order), then the same under each decay. A grid stopped early has answered
    the main questions first; list the schedules coarse to fine to get whole curves early.
    """
    ordered: list[Setting] = []
    for decay in decays(config):
        ordered.extend(group_setting(group, decay) for group in config.groups)
        ordered.extend(strategy_setting(schedule, decay) for schedule in config.schedules)
    return list(dict.fromkeys(ordered))


def cells(config: GridConfig) -> list[Cell]:
    """Every run of the grid, in the order they run: all seeds of a setting, then the next setting."""
    return [Cell(setting, seed) for setting in settings(config) for seed in config.seeds]
