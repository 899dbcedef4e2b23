"""Scoring the teacher against human tags on the sentences both have (the paper's Table 1)."""

from __future__ import annotations

import warnings
from collections.abc import Iterable
from typing import Any

from nerd.conll import ConllCorpus
from nerd.records import TrainingRecord


def score_against_gold(records: Iterable[TrainingRecord], gold: ConllCorpus) -> dict[str, Any]:
    """Entity-level precision, recall and F1 of the imported tags against gold, per type and averaged.

    Sentences are matched by their tokens, so the gold file may hold more or fewer sentences, in any
    order. Scored with seqeval's default (conlleval-compatible) mode.
    """
    from seqeval.metrics import classification_report

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
    with warnings.catch_warnings():
        # A type absent from one side gives 0/0; seqeval warns and reports 0, which is what we want.
        warnings.simplefilter("ignore")
        report = classification_report(true_tags, predicted, output_dict=True, zero_division=0, digits=4)
    averages = {"micro avg": "micro", "macro avg": "macro", "weighted avg": "weighted"}
    result["per_type"] = {}
    for name, values in report.items():
        scores = {
            "precision": round(float(values["precision"]), 4),
            "recall": round(float(values["recall"]), 4),
            "f1": round(float(values["f1-score"]), 4),
            "support": int(values["support"]),
        }
        if name in averages:
            result[averages[name]] = scores
        else:
            result["per_type"][name] = scores
    return result
