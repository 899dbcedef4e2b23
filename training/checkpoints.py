"""The per-epoch checkpoint that ``--resume`` continues from and Ctrl-C cannot corrupt.

A checkpoint is a directory (``checkpoint/``) with the weights and optimizer state (``state.pt``) and
the run's progress (``trainer_state.json``). It is written beside the old one and swapped in by
renames, so at any moment there is one complete checkpoint: an interrupted write leaves the previous
epoch's, never half of one.
"""

from __future__ import annotations

import json
import os
import shutil
import tempfile
from pathlib import Path
from typing import Any

from nerd.atomic import new_file_mode
from nerd.errors import ConfigError, InputError
from nerd.training.records import Progress

CHECKPOINT_DIR = "checkpoint"
STATE_FILE = "state.pt"
PROGRESS_FILE = "trainer_state.json"


def save_checkpoint(out_dir: Path, model: Any, optimizer: Any, progress: Progress) -> None:
    """Write the checkpoint of a finished epoch, replacing the previous one."""
    import torch

    target = out_dir / CHECKPOINT_DIR
    staging = Path(tempfile.mkdtemp(prefix=".checkpoint-", dir=out_dir))
    try:
        torch.save({"model": model.state_dict(), "optimizer": optimizer.state_dict()}, staging / STATE_FILE)
        (staging / PROGRESS_FILE).write_text(json.dumps(progress, indent=1), encoding="utf-8")
        retired = out_dir / f".{CHECKPOINT_DIR}-retired"
        if retired.exists():
            shutil.rmtree(retired)
        if target.exists():
            target.rename(retired)
        staging.rename(target)
        shutil.rmtree(retired, ignore_errors=True)
    except BaseException:
        shutil.rmtree(staging, ignore_errors=True)
        raise


def recover_checkpoint(out_dir: Path) -> None:
    """Put back the previous checkpoint if a run died between the two renames of a swap."""
    retired = out_dir / f".{CHECKPOINT_DIR}-retired"
    if retired.exists() and not (out_dir / CHECKPOINT_DIR).exists():
        retired.rename(out_dir / CHECKPOINT_DIR)
    for leftover in out_dir.glob(".checkpoint-*"):
        shutil.rmtree(leftover, ignore_errors=True)


def read_progress(out_dir: Path) -> Progress | None:
    """The progress of the last checkpoint, or None when there is none."""
    recover_checkpoint(out_dir)
    path = out_dir / CHECKPOINT_DIR / PROGRESS_FILE
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as error:
        raise InputError(f"unreadable checkpoint: {error}", path=path) from None


def restore_checkpoint(out_dir: Path, model: Any, optimizer: Any, fingerprint: str) -> Progress:
    """Restore weights and optimizer from the last checkpoint; its progress is returned.

    Raises:
        ConfigError: the checkpoint belongs to a run with other data, options or seed.
        InputError: no checkpoint, or a damaged one.
    """
    import torch

    progress = read_progress(out_dir)
    if progress is None:
        raise InputError("nothing to resume: no checkpoint", path=out_dir)
    if progress.get("fingerprint") != fingerprint:
        raise ConfigError(
            f"{out_dir}: the checkpoint is from a run with other data, options or seed; "
            "resume with the same command, or start over with --force"
        )
    try:
        state = torch.load(out_dir / CHECKPOINT_DIR / STATE_FILE, map_location="cpu", weights_only=True)
        model.load_state_dict(state["model"])
        optimizer.load_state_dict(state["optimizer"])
    except (OSError, RuntimeError, KeyError, ValueError) as error:
        raise InputError(f"damaged checkpoint: {error}", path=out_dir / CHECKPOINT_DIR) from None
    return progress


def remove_checkpoint(out_dir: Path) -> None:
    """Drop the checkpoint once the run is complete (it is several times the model's size)."""
    shutil.rmtree(out_dir / CHECKPOINT_DIR, ignore_errors=True)


def save_best(model: Any, out_dir: Path) -> None:
    """Swap the best weights (and config) into the run directory, file by file with atomic renames."""
    staging = Path(tempfile.mkdtemp(prefix=".best-", dir=out_dir))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        for written in staging.iterdir():
            # safetensors writes its file 0600; the weights are as readable as the run's other files.
            os.chmod(written, new_file_mode())
            os.replace(written, out_dir / written.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)
