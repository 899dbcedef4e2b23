"""Scoring the teacher against human tags on the sentences both have (the paper's Table 1)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from nerd.conll import ConllCorpus
from nerd.records import TrainingRecord
from nerd.scoring import entity_scores


def score_against_gold(records: Iterable[TrainingRecord], gold: ConllCorpus) -> dict[str, Any]:
    """Entity-level precision, recall and F1 of the imported tags against gold, per type and averaged.

    Sentences are matched by their tokens, so the gold file may hold more or fewer sentences, in any
    order. Scored with seqeval's default (conlleval-compatible) mode.
    """
    gold_by_tokens: dict[tuple[str, ...], tuple[str, ...]] = {}
    for sentence in gold.sentences:
        gold_by_tokens.setdefault(sentence.tokens, sentence.tags)
    true_tags: list[list[str]] = []
    predicted: list[list[str]] = []
    for record in records:
        tags = gold_by_tokens.get(tuple(record.tokens))
        if tags is not None:
            true_tags.append(list(tags))
            predicted.append(list(record.tags))
    result: dict[str, Any] = {
        "gold_file": gold.path,
        "sentences": len(true_tags),
        "gold_sentences": len(gold.sentences),
    }
    if not true_tags:
        result["per_type"] = {}
        return result
    result.update(entity_scores(true_tags, predicted))
    return result
