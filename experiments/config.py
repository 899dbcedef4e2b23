"""The reproduction grid's configuration: data, seeds, training preset and which cells to run (TOML).

Paths are relative to the directory the command runs in (the project root for ``experiments/paper.toml``),
so the same file works from a clone whatever its location, as long as ``../shared/data`` is beside it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator

from nerd.errors import ConfigError
from nerd.training.schedules import parse_schedule

GROUPS = ("A", "B", "C", "D", "E")


class TeacherConfig(BaseModel):
    """The teacher's answer files: their CoNLL part (with gold tags of the same sentences) and their BBC
    part."""

    model_config = ConfigDict(extra="forbid")

    conll: Path = Field(description="directory or files of the CoNLL sentences' requests and answers")
    bbc: Path = Field(description="directory or files of the BBC sentences' answers")
    gold: Path = Field(description="CoNLL file with the human tags of the answers' CoNLL sentences")


class TrainingConfig(BaseModel):
    """What every cell shares; fields left out come from the preset."""

    model_config = ConfigDict(extra="forbid")

    preset: Literal["paper", "cpu"] = "cpu"
    epochs: int | None = Field(default=None, ge=1)
    learning_rate: float | None = Field(default=None, gt=0)
    batch_size: int | None = Field(default=None, ge=1)
    max_length: int | None = Field(default=None, ge=8)
    precision: Literal["auto", "fp32", "bf16", "fp16"] | None = None
    epoch_selection: Literal["best", "last"] = "last"
    base_model: Path | None = None
    device: Literal["auto", "cpu", "cuda"] = "auto"
    threads: int | None = Field(default=None, ge=1)


class GridConfig(BaseModel):
    """One reproduction: its data, its seeds and the cells of phases 2 and 3."""

    model_config = ConfigDict(extra="forbid")

    original: list[Path] = Field(min_length=1, description="the human-labelled training sentences")
    dev: Path = Field(description="the CoNLL file every cell is scored on")
    teacher: TeacherConfig
    seeds: list[int] = Field(min_length=1)
    lr_decays: list[float] = Field(
        default=[0.95], description="each cell runs at a constant rate and once with each of these decays"
    )
    groups: list[Literal["A", "B", "C", "D", "E"]] = Field(default=list(GROUPS))
    schedules: list[str] = Field(
        default=[], description="phase 3: schedules over CoNLL + BBC distilled data, then original"
    )
    training: TrainingConfig = TrainingConfig()
    results: Path | None = Field(
        default=None,
        description="directory of finished cells' result.json files kept with the project (in git): read "
        "before OUT/cells, and every cell that finishes is written there too: no clone trains a cell twice",
    )

    @field_validator("seeds")
    @classmethod
    def _distinct_seeds(cls, seeds: list[int]) -> list[int]:
        if len(set(seeds)) != len(seeds) or any(seed < 0 for seed in seeds):
            raise ValueError("seeds must be distinct non-negative integers")
        return seeds

    @field_validator("lr_decays")
    @classmethod
    def _decays_in_range(cls, decays: list[float]) -> list[float]:
        if any(not 0 < decay < 1 for decay in decays):
            raise ValueError("each decay is a factor between 0 and 1 (1 is the constant rate, always run)")
        return decays

    @field_validator("schedules")
    @classmethod
    def _known_schedules(cls, schedules: list[str]) -> list[str]:
        try:
            return [str(parse_schedule(name)) for name in schedules]
        except ConfigError as error:  # pydantic names the field only for a ValueError
            raise ValueError(str(error)) from None


def load_config(path: Path) -> GridConfig:
    """Read and check a grid configuration.

    Raises:
        ConfigError: an unreadable file, bad TOML (with its line), or a field that does not fit (named).
    """
    try:
        raw = tomllib.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise ConfigError(f"{path}: cannot read: {error.strerror or error}") from None
    except UnicodeDecodeError as error:
        raise ConfigError(f"{path}: not UTF-8 text: {error.reason} at byte {error.start}") from None
    except tomllib.TOMLDecodeError as error:
        raise ConfigError(f"{path}: not valid TOML: {error}") from None
    try:
        return GridConfig.model_validate(raw)
    except ValidationError as error:
        first = error.errors()[0]
        where = ".".join(str(part) for part in first["loc"]) or "(top level)"
        raise ConfigError(f"{path}: field {where}: {first['msg']}") from None
