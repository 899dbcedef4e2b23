"""A bundle's entities for documents, as ``/v1/entities`` gives them: what each worker process and each
Ray actor holds (the bundle loaded once).

The text is split by the service's tokenizer, read with the service's default settings (aggregation,
decoding, windows of ``max_batch_tokens`` sub-tokens overlapping by ``stride``) and the entities mapped
to character offsets into the document by the service's own function, so a document's entities are those
the service returns for the same text. Documents are tagged many at a time; the int8 model's answer does
not depend on what it is batched with, so neither does the output.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from nerd.service.entities import entities_in_text
from nerd.service.settings import ServiceSettings
from nerd.tagging.bundle_tagger import BundleTagger
from nerd.tagging.opening import open_bundle
from nerd.tokenization import tokenize


class DocumentExtractor:
    """One bundle, loaded and verified once; ``records`` turns documents into output lines."""

    def __init__(self, bundle: Path, *, threads: int | None = 1) -> None:
        self.tagger: BundleTagger = open_bundle(bundle, threads=threads)
        # The service's defaults, not the environment: an extraction's answer is fixed by its options.
        defaults = ServiceSettings.model_construct()
        self.options = {
            "aggregation": defaults.aggregation,
            "decoding": defaults.decoding,
            "batch_size": defaults.max_batch_size,
            "max_tokens": defaults.max_batch_tokens,
            "stride": defaults.stride,
        }

    def entities(self, texts: Sequence[str]) -> list[tuple[list[dict[str, Any]], bool]]:
        """Each text's entities (dicts as the service writes them) and whether a limit cut it."""
        split = [tokenize(text) for text in texts]
        words = [[word.text for word in text_words] for text_words in split]
        predictions = self.tagger.analyse(words, **self.options)
        return [
            ([vars(entity) for entity in entities_in_text(text, text_words, predicted)], predicted.truncated)
            for text, text_words, predicted in zip(texts, split, predictions, strict=True)
        ]

    def records(self, ids: Sequence[str], sources: Sequence[str], texts: Sequence[str]) -> list[str]:
        """One JSON line per document: ``{"id", "source", "entities", "truncated"}``."""
        return [
            output_line(identifier, source, found, truncated)
            for identifier, source, (found, truncated) in zip(ids, sources, self.entities(texts), strict=True)
        ]


def output_line(identifier: str, source: str, entities: list[dict[str, Any]], truncated: bool) -> str:
    record = {"id": identifier, "source": source, "entities": entities, "truncated": truncated}
    return json.dumps(record, ensure_ascii=False)
