"""Entity-level scores with seqeval, in one shape every stage reports: per type, then micro/macro/weighted.

>>> scores = entity_scores([["B-PER", "O"]], [["B-PER", "O"]])
>>> scores["micro"]["f1"], scores["per_type"]["PER"]["support"]
(1.0, 1)
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

# typing_extensions' TypedDict: pydantic (the review API's response model) needs it before Python 3.12.
from typing_extensions import TypedDict

AVERAGES = {"micro avg": "micro", "macro avg": "macro", "weighted avg": "weighted"}


class Score(TypedDict):
    """One row of a score table."""

    precision: float
    recall: float
    f1: float
    support: int


class Scores(TypedDict):
    """Entity-level scores: the three averages and one row per entity type (what every stage reports)."""

    micro: Score
    macro: Score
    weighted: Score
    per_type: dict[str, Score]


def entity_scores(
    true_tags: Sequence[Sequence[str]], predicted_tags: Sequence[Sequence[str]], *, strict: bool = False
) -> Scores:
    """Precision, recall, F1 and support per entity type and averaged, rounded to 4 places.

    ``strict=False`` is seqeval's default, conlleval-compatible mode; ``strict=True`` scores IOB2 spans
    exactly. With no sentences (or no entities on either side) every average is 0.
    """
    from seqeval.metrics import classification_report
    from seqeval.scheme import IOB2

    result: Any = {"per_type": {}}
    empty = {"precision": 0.0, "recall": 0.0, "f1": 0.0, "support": 0}
    for name in AVERAGES.values():
        result[name] = dict(empty)
    if not any(true_tags) and not any(predicted_tags):
        return result
    options: dict[str, Any] = {"mode": "strict", "scheme": IOB2} if strict else {}
    with warnings.catch_warnings():
        # A type absent from one side gives 0/0; seqeval warns and reports 0, which is what we want.
        warnings.simplefilter("ignore")
        report = classification_report(
            [list(tags) for tags in true_tags],
            [list(tags) for tags in predicted_tags],
            output_dict=True,
            zero_division=0,
            **options,
        )
    for name, values in report.items():
        scores = {
            "precision": round(float(values["precision"]), 4),
            "recall": round(float(values["recall"]), 4),
            "f1": round(float(values["f1-score"]), 4),
            "support": int(values["support"]),
        }
        if name in AVERAGES:
            result[AVERAGES[name]] = scores
        else:
            result["per_type"][name] = scores
    return result
