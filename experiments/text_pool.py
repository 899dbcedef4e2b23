"""Unlabelled text for ``nerd label`` from a JSONL corpus: the text field of some of its lines, as articles.

The recipe of ``docs/quality.md`` takes BBC articles (the other domain of the teacher's answers) beside the
CoNLL train sentences it does not use::

    python -m nerd.experiments.text_pool ../shared/data/bbc/bbc_fulltext.jsonl --articles 200 \\
        --out out/quality/pool-bbc.txt

Articles are drawn with a seed, so the same command writes the same file; they are separated by blank
lines (``nerd label --format articles``). Articles the teacher's answers already used are not excluded:
the answers' BBC sentences are a small share of them, and a larger student labels them anew anyway.
"""

from __future__ import annotations

import argparse
import json
import random
from collections.abc import Sequence
from pathlib import Path

from nerd.atomic import atomic_write_text
from nerd.errors import InputError


def draw_articles(source: Path, count: int, seed: int, text_field: str = "text") -> list[str]:
    """``count`` article texts drawn at random (all of them when there are fewer).

    Raises:
        InputError: a line that is not a JSON object with a string ``text_field``.
    """
    texts = []
    for number, line in enumerate(source.read_text(encoding="utf-8").splitlines(), start=1):
        if not line.strip():
            continue
        try:
            record = json.loads(line)
        except json.JSONDecodeError:
            raise InputError("not JSON", path=source, line=number) from None
        value = record.get(text_field) if isinstance(record, dict) else None
        if not isinstance(value, str):
            raise InputError(f"no string field {text_field!r}", path=source, line=number, field=text_field)
        texts.append(value)
    random.Random(seed).shuffle(texts)
    return texts[:count]


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Write articles of a JSONL corpus as running text.")
    parser.add_argument("source", type=Path, help="JSONL file, one article a line")
    parser.add_argument("--out", type=Path, required=True, help="text file to write")
    parser.add_argument("--articles", type=int, default=200, help="articles to draw")
    parser.add_argument("--seed", type=int, default=2026)
    parser.add_argument("--text-field", default="text")
    arguments = parser.parse_args(argv)
    texts = draw_articles(arguments.source, arguments.articles, arguments.seed, arguments.text_field)
    if not texts:
        raise SystemExit(f"{arguments.source}: no articles")
    # Paragraphs inside an article are single newlines here; a blank line separates articles.
    atomic_write_text(arguments.out, "\n\n".join(text.replace("\n\n", "\n").strip() for text in texts) + "\n")
    print(f"{len(texts)} articles in {arguments.out}")  # noqa: T201


if __name__ == "__main__":
    main()
