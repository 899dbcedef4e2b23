"""What a person sees: sentences sent to models as a REST caller sends them, entities side by side.

    python -m nerd.experiments.showcase experiments/showcase.txt BUNDLE [BUNDLE...] [--names A,B]

Each line of the text file is one text; each bundle tags it through the service's own path (nerd's
tokenizer, the bundle's engine, Viterbi decoding, entities as character spans). Prints a Markdown
table: the text, then each model's entities as ``text`` LABEL.
"""

from __future__ import annotations

import argparse
from collections.abc import Sequence
from pathlib import Path

from nerd.service.entities import entities_in_text
from nerd.tagging.onnx_tagger import OnnxTagger
from nerd.tokenization import tokenize


def entities(tagger: OnnxTagger, texts: Sequence[str]) -> list[list[tuple[str, str]]]:
    """Each text's entities as (text, label), read as ``/v1/entities`` reads a text."""
    words = [tokenize(text) for text in texts]
    predictions = tagger.analyse([[word.text for word in sentence] for sentence in words])
    return [
        [(entity.text, entity.label) for entity in entities_in_text(text, sentence_words, predicted)]
        for text, sentence_words, predicted in zip(texts, words, predictions, strict=True)
    ]


def table(texts: Sequence[str], names: Sequence[str], found: Sequence[list[list[tuple[str, str]]]]) -> str:
    lines = ["| text | " + " | ".join(names) + " |", "|---" * (len(names) + 1) + "|"]
    for index, text in enumerate(texts):
        cells = [", ".join(f"{span} {label}" for span, label in model[index]) or "–" for model in found]
        lines.append(f"| {text.replace('|', '/')} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description="Entities of each model, side by side, per text.")
    parser.add_argument("texts", type=Path, help="one text a line")
    parser.add_argument("bundles", type=Path, nargs="+", help="exported bundle directories")
    parser.add_argument("--names", help="comma-separated column names (default: the bundle paths)")
    args = parser.parse_args(argv)
    texts = [line.strip() for line in args.texts.read_text(encoding="utf-8").splitlines() if line.strip()]
    names = args.names.split(",") if args.names else [str(path) for path in args.bundles]
    if len(names) != len(args.bundles):
        parser.error(f"{len(names)} names for {len(args.bundles)} bundles")
    found = [entities(OnnxTagger(bundle), texts) for bundle in args.bundles]
    print(table(texts, names, found), end="")  # noqa: T201


if __name__ == "__main__":
    main()
