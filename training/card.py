"""The training card's files: JSON (for tools) and Markdown (for people), written and read back.

What goes on a card is :mod:`nerd.training.card_content`'s; this module knows only its format, so that
anything reading cards (continuing a student, exports) needs nothing of training's preparation.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nerd.atomic import atomic_write_text
from nerd.training.records import EpochRecord

CARD_JSON = "training_card.json"
CARD_MARKDOWN = "training_card.md"


def epoch_loss_and_f1(record: EpochRecord) -> tuple[str, str]:
    """An epoch record's loss and dev micro F1 as the card and the progress line print them.

    >>> epoch_loss_and_f1({"loss": 0.12345, "dev": None})
    ('0.1235', '–')
    """
    loss = "–" if record["loss"] is None else f"{record['loss']:.4f}"
    f1 = "–" if record["dev"] is None else f"{record['dev']['micro']['f1']:.4f}"
    return loss, f1


def card_markdown(card: dict[str, Any]) -> str:
    """The card as a Markdown page."""
    lines = [
        "# Training card",
        "",
        f"- status: **{card['status']}**, seed {card['seed']}, best epoch {card['best_epoch']} "
        f"of {card['epochs_done']} (wall time {card['wall_seconds']:.0f} s)",
        f"- base model: `{card['base_model']}` ({card['base_model_type']})",
        f"- device: {card['device']}, precision {card['precision']}",
        f"- labels: {', '.join(card['labels'])}",
        f"- schedule: `{card['schedule']['name']}`",
        "",
        "## Data",
        "",
        "| role | file | sentences | sha256 |",
        "|---|---|---:|---|",
    ]
    for role, source in card["data"].items():
        for f in source["files"]:
            lines.append(f"| {role} | `{f['path']}` | {f['sentences']} | `{f['sha256'][:16]}…` |")
    lines += ["", "## Hyperparameters", "", "| name | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in card["hyperparameters"].items()]
    best = card["best_dev"]
    if best:
        kept = card["hyperparameters"].get("epoch_selection", "best")
        lines += ["", f"## Dev scores of the {kept} epoch", "", "| | precision | recall | F1 | support |"]
        lines.append("|---|---:|---:|---:|---:|")
        rows = [*sorted(best["per_type"].items()), *((k, best[k]) for k in ("micro", "macro", "weighted"))]
        for name, s in rows:
            lines.append(
                f"| {name} | {s['precision']:.4f} | {s['recall']:.4f} | {s['f1']:.4f} | {s['support']} |"
            )
    lines += [
        "",
        "## Epochs",
        "",
        "| epoch | w0 | w1 | distilled | original | lr | loss | dev micro F1 | train s | eval s |",
        "|---:|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for row in card["history"]:
        loss, f1 = epoch_loss_and_f1(row)
        lines.append(
            f"| {row['epoch']} | {row['w0']:.3f} | {row['w1']:.3f} | {row['distilled_sentences']} | "
            f"{row['original_sentences']} | {row['learning_rate']:.3g} | {loss} | "
            f"{f1} | {row['train_seconds']:.1f} | {row['eval_seconds']:.1f} |"
        )
    lines += ["", "## Versions", ""]
    lines += [f"- {name}: {version}" for name, version in card["versions"].items()]
    return "\n".join(lines) + "\n"


def write_card(out_dir: Path, card: dict[str, Any]) -> None:
    """Write a card (a :func:`nerd.training.card_content.build_card` dict) as JSON and Markdown."""
    atomic_write_text(out_dir / CARD_JSON, json.dumps(card, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(out_dir / CARD_MARKDOWN, card_markdown(card))


def read_card(out_dir: Path) -> dict[str, Any] | None:
    """The card of a run directory, or None when it has none yet."""
    path = out_dir / CARD_JSON
    if not path.is_file():
        return None
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError):
        return None
