"""A probe set for ``nerd evolve``: labelled sentences the student has not trained on.

Draws sentences at random from a CoNLL file, leaving out the sentences another CoNLL file holds (word
for word) and those listed by index (0-based, counting sentences, as the teacher's answer files'
``sentence_ids.txt``), so the student's mistakes on them are real ones. The probe of
``docs/evolve.md``::

    python -m experiments.probe_split ../shared/data/conll2003/train.txt \\
        --exclude ../shared/data/paper-split/gold_1000.conll \\
        --exclude-ids ../shared/data/teacher-bundle/conll/sentence_ids.txt --out out/evolve-data/probe.conll
"""

from __future__ import annotations

import argparse
import random
from collections.abc import Sequence
from pathlib import Path

from nerd.atomic import atomic_write_text
from nerd.conll import Sentence, format_conll, read_conll
from nerd.errors import InputError


def read_ids(path: Path) -> set[int]:
    """Sentence indices, whitespace-separated.

    Raises:
        InputError: a token that is not a non-negative integer, with its line.
    """
    ids: set[int] = set()
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        for token in line.split():
            if not token.isdigit():
                raise InputError(f"{token!r} is not a sentence index", path=path, line=number)
            ids.add(int(token))
    return ids


def probe_split(
    source: Path,
    size: int,
    seed: int,
    *,
    exclude: Sequence[Path] = (),
    exclude_ids: set[int] | None = None,
    min_tokens: int = 4,
) -> list[Sentence]:
    """``size`` sentences of ``source``, in file order, none of them excluded."""
    excluded = {sentence.tokens for path in exclude for sentence in read_conll(path).sentences}
    skip = exclude_ids or set()
    sentences = read_conll(source).sentences
    pool = [
        index
        for index, sentence in enumerate(sentences)
        if index not in skip and sentence.tokens not in excluded and len(sentence.tokens) >= min_tokens
    ]
    random.Random(seed).shuffle(pool)
    return [Sentence(sentences[index].tokens, sentences[index].tags) for index in sorted(pool[:size])]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Draw a probe set for nerd evolve from a CoNLL file.")
    parser.add_argument("source", type=Path, help="CoNLL file to draw from")
    parser.add_argument("--out", type=Path, required=True, help="CoNLL file to write (2 columns)")
    parser.add_argument(
        "--exclude", type=Path, action="append", default=[], help="CoNLL file whose sentences to leave out"
    )
    parser.add_argument(
        "--exclude-ids", type=Path, action="append", default=[], help="file of sentence indices to leave out"
    )
    parser.add_argument("--size", type=int, default=1000, help="sentences to draw")
    parser.add_argument("--seed", type=int, default=2026)
    args = parser.parse_args(argv)
    ids = set().union(*(read_ids(path) for path in args.exclude_ids))
    sentences = probe_split(args.source, args.size, args.seed, exclude=args.exclude, exclude_ids=ids)
    atomic_write_text(args.out, format_conll(sentences))
    parser.exit(message=f"{len(sentences)} sentences in {args.out}\n")


if __name__ == "__main__":
    main()
