"""How good a labeller is: the hard tags ``nerd label`` wrote for a labelled CoNLL file, scored against it.

``nerd evaluate`` scores one model; a teacher of the default model may be an ensemble (``nerd label
--model A --model B`` averages their distributions), so it is measured by labelling CoNLL dev and
scoring what it wrote::

    nerd label ../shared/data/conll2003/valid.txt --model out/default/teacher \\
        --model models/en-conll-minilm-int8 --out out/default/teacher-dev
    python -m nerd.experiments.score_labels out/default/teacher-dev/data.jsonl \\
        ../shared/data/conll2003/valid.txt

Records and sentences are paired in order (``nerd label`` writes one record per sentence of a CoNLL
file, in the file's order); a pair whose tokens differ is an error, not a silent mismatch.
"""

from __future__ import annotations

import argparse
import json
from collections.abc import Sequence
from pathlib import Path

from nerd.conll import read_conll
from nerd.errors import InputError
from nerd.records import read_records
from nerd.scoring import Scores, entity_scores


def score_labels(labelled: Path, gold: Path) -> dict[str, Scores]:
    """Seqeval's default and strict scores of the labelled records' tags against the gold file's.

    Raises:
        InputError: a different number of sentences, or a record whose tokens are not its sentence's.
    """
    records = list(read_records(labelled))
    sentences = read_conll(gold).sentences
    if len(records) != len(sentences):
        raise InputError(
            f"{len(records)} labelled records but {len(sentences)} gold sentences", path=labelled
        )
    for number, (record, sentence) in enumerate(zip(records, sentences, strict=True), start=1):
        if tuple(record.tokens) != sentence.tokens:
            raise InputError(
                f"record {number} ({record.id}) has other tokens than gold sentence {number}",
                path=labelled,
                line=number,
            )
    true = [list(sentence.tags) for sentence in sentences]
    predicted = [record.tags for record in records]
    return {
        "default": entity_scores(true, predicted),
        "strict": entity_scores(true, predicted, strict=True),
    }


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Score nerd label's tags against the gold file it labelled.")
    parser.add_argument("labelled", type=Path, help="data.jsonl written by nerd label")
    parser.add_argument("gold", type=Path, help="the CoNLL file that was labelled, with its tags")
    parser.add_argument("--json", type=Path, help="write the scores here too")
    arguments = parser.parse_args(argv)
    try:
        scores = score_labels(arguments.labelled, arguments.gold)
    except InputError as error:
        raise SystemExit(str(error)) from None
    if arguments.json:
        from nerd.atomic import atomic_write_text

        atomic_write_text(arguments.json, json.dumps(scores, indent=2) + "\n")
    for mode, table in scores.items():
        micro = table["micro"]
        types = ", ".join(f"{name} {row['f1']:.4f}" for name, row in sorted(table["per_type"].items()))
        shares = f"P {micro['precision']:.4f}, R {micro['recall']:.4f}"
        print(f"{mode}: micro F1 {micro['f1']:.4f} ({shares}); {types}")  # noqa: T201


if __name__ == "__main__":
    main()
