"""Distilled data with the teacher's gaps filled by a model's confident predictions (docs/quality.md).

    python -m nerd.experiments.fill_gaps out/quality/imported/data.jsonl --model out/quality/gold-student \\
        --min-confidence 0.9 --out out/quality/filled

Writes ``data.jsonl`` (the records with their tags filled, for ``nerd train --distilled``) and
``report.json`` (entities added by type, and how many predictions were left out and why).
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Annotated

import numpy as np
import typer

from nerd.atomic import atomic_write_text
from nerd.checksums import file_sha256
from nerd.decoding import decode, log_of
from nerd.pseudo_labels.gap_filling import GapFilling, fill_gaps
from nerd.records import read_records


def main(
    distilled: Annotated[Path, typer.Argument(help="Imported teacher data (data.jsonl of nerd import).")],
    model: Annotated[Path, typer.Option(help="A checkpoint or bundle trained on gold data.")],
    out: Annotated[Path, typer.Option(help="Directory for data.jsonl and report.json.")],
    min_confidence: Annotated[float, typer.Option(min=0.0, max=1.0)] = 0.9,
    threads: Annotated[int, typer.Option(min=1)] = 2,
) -> None:
    from nerd.pseudo_labels.labellers import load_labeller

    records = list(read_records(distilled))
    if not records:
        raise typer.BadParameter(f"{distilled}: no records")
    labeller = load_labeller(model, threads=threads)
    labels = list(labeller.labels)
    distributions = labeller.distributions([r.tokens for r in records])
    predicted = decode([log_of(rows) for rows in distributions], labels, "viterbi")
    tally = GapFilling()
    lines = []
    for record, rows, tags in zip(records, distributions, predicted, strict=True):
        confidence = [float(rows[i, labels.index(tag)]) for i, tag in enumerate(tags)]
        filled = fill_gaps(record.tags, tags, confidence, min_confidence, tally)
        provenance = record.provenance.model_copy(
            update={
                "teacher": f"{record.provenance.teacher}; gaps filled by {labeller.name}",
                "labeller_sha256": labeller.sha256,
            }
        )
        lines.append(record.model_copy(update={"tags": filled, "provenance": provenance}).to_json_line())
    out.mkdir(parents=True, exist_ok=True)
    atomic_write_text(out / "data.jsonl", "".join(line + "\n" for line in lines))
    report = {
        "input": str(distilled),
        "input_sha256": file_sha256(distilled),
        "labeller": labeller.name,
        "labeller_sha256": labeller.sha256,
        "min_confidence": min_confidence,
        "sentences": tally.sentences,
        "sentences_changed": tally.sentences_changed,
        "entities_added": dict(sorted(tally.added.items())),
        "left_out_below_threshold": tally.below_threshold,
        "left_out_conflicting": tally.conflicting,
        "mean_word_confidence": round(
            float(np.mean([rows.max(axis=-1).mean() for rows in distributions])), 4
        ),
    }
    atomic_write_text(out / "report.json", json.dumps(report, indent=2) + "\n")
    typer.echo(json.dumps(report, indent=2))


if __name__ == "__main__":
    typer.run(main)
