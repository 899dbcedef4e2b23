"""The training card: what a model was trained on and how, as JSON (for tools) and Markdown (for people)."""

from __future__ import annotations

import json
import platform
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerd.atomic import atomic_write_text

if TYPE_CHECKING:
    from training.preparation import Prepared
    from training.trainer import RunOptions

CARD_JSON = "training_card.json"
CARD_MARKDOWN = "training_card.md"
_LIBRARIES = ("nerd", "torch", "transformers", "tokenizers", "accelerate", "safetensors", "seqeval", "numpy")


def library_versions() -> dict[str, str | None]:
    """Installed versions of the libraries a run depends on (None where one is missing)."""
    versions: dict[str, str | None] = {"python": platform.python_version()}
    for name in _LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def build_card(
    prepared: Prepared,
    options: RunOptions,
    history: list[dict[str, Any]],
    best_epoch: int,
    status: str,
    wall_seconds: float,
    device: str,
    precision: str,
) -> dict[str, Any]:
    """The card's content as a JSON-ready dict."""
    sources = {}
    for source in (prepared.distilled, prepared.original, prepared.dev):
        if source is not None:
            sources[source.role] = {
                "files": [
                    {"path": f.path, "sha256": f.sha256, "sentences": f.sentences} for f in source.files
                ],
                "sentences": len(source),
            }
    best = next((row for row in history if row["epoch"] == best_epoch), None)
    return {
        "status": status,
        "seed": options.seed,
        "base_model": str(prepared.base_model.path),
        "base_model_type": prepared.base_model.config.model_type,
        "labels": list(prepared.label_space.labels),
        "label_map": prepared.label_map,
        "data": sources,
        "schedule": {
            "name": str(prepared.schedule),
            "w0": [round(w0, 6) for w0, _ in prepared.plan],
            "w1": [round(w1, 6) for _, w1 in prepared.plan],
        },
        "hyperparameters": prepared.hyperparameters.model_dump(),
        "device": device,
        "precision": precision,
        "best_epoch": best_epoch,
        "best_dev": best["dev"] if best else None,
        "epochs_done": len(history),
        "history": history,
        "wall_seconds": round(wall_seconds, 2),
        "versions": library_versions(),
    }


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
        loss = "–" if row["loss"] is None else f"{row['loss']:.4f}"
        f1 = "–" if row["dev"] is None else f"{row['dev']['micro']['f1']:.4f}"
        lines.append(
            f"| {row['epoch']} | {row['w0']:.3f} | {row['w1']:.3f} | {row['distilled_sentences']} | "
            f"{row['original_sentences']} | {row['learning_rate']:.3g} | {loss} | "
            f"{f1} | {row['train_seconds']:.1f} | {row['eval_seconds']:.1f} |"
        )
    lines += ["", "## Versions", ""]
    lines += [f"- {name}: {version}" for name, version in card["versions"].items()]
    return "\n".join(lines) + "\n"


def write_card(out_dir: Path, card: dict[str, Any]) -> None:
    """Write a card (from :func:`build_card`) as ``training_card.json`` and ``training_card.md``."""
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
