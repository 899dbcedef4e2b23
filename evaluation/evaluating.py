"""``nerd evaluate``: score a model on CoNLL files both ways, analyse its errors, compare with a baseline."""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

from nerd.checksums import file_sha256
from nerd.conll import Sentence, read_conll
from nerd.decoding import Decoding
from nerd.errors import LabelMapError
from nerd.evaluation.error_analysis import ErrorAnalysis, analyse_errors
from nerd.evaluation.predictors import Predictor, load_predictor
from nerd.evaluation.raw_text import raw_text_evaluation
from nerd.scoring import entity_scores
from nerd.spans import labels_of, map_types
from nerd.tagging.runtime_choice import Runtime

AVERAGES = ("micro", "macro", "weighted")
Recase = Literal["lower", "upper"]
RECASES: dict[str, Callable[[str], str]] = {"lower": str.lower, "upper": str.upper}


@dataclass
class Evaluation:
    report: dict[str, Any]  # what --json writes
    sentences: list[Sentence]
    predicted: list[list[str]]
    gold: list[list[str]]
    errors: ErrorAnalysis


def check_types(data_types: set[str], model_types: set[str], label_map: dict[str, str]) -> list[str]:
    """Raise on data types the model cannot predict (unless mapped); warn on model-only types.

    >>> check_types({"PER", "LOC"}, {"PER", "LOC", "MISC"}, {})
    ['the model predicts MISC, which the data never labels: those predictions count as spurious']
    """
    unknown = sorted(data_types - model_types - set(label_map))
    if unknown:
        example = ", ".join(f'"{name}": "O"' for name in unknown)
        raise LabelMapError(
            f"the data labels {', '.join(unknown)}, which the model does not know; map them with "
            f"--label-map (a JSON file such as {{{example}}} or to a type the model has)"
        )
    extra = sorted(model_types - data_types - set(label_map))
    return [
        f"the model predicts {name}, which the data never labels: those predictions count as spurious"
        for name in extra
    ]


def evaluate(
    model: Path,
    data: Sequence[Path],
    *,
    label_map: dict[str, str] | None = None,
    threads: int | None = None,
    predictor: Predictor | None = None,
    decoding: Decoding | None = None,
    raw_text: bool = False,
    recase: Recase | None = None,
    runtime: Runtime | None = None,
) -> Evaluation:
    """Predict, score (seqeval default and strict), analyse errors; raises on unknown labels.

    ``predictor`` is ``model`` already loaded (:func:`load_predictor`), to score several data sets
    with one load; without it the model is loaded here, decoding as ``decoding`` says and run by
    ``runtime`` (None: as ``nerd serve`` would). ``raw_text`` also scores the sentences as a REST
    caller sends them (:mod:`nerd.evaluation.raw_text`), under the report's ``raw_text``. ``recase``
    sends every word lower- or upper-cased (the gold tags stay): how much a model leans on capitals.
    """
    started = time.perf_counter()
    label_map = label_map or {}
    sentences: list[Sentence] = []
    files = []
    for path in data:
        corpus = read_conll(path)
        sentences.extend(corpus.sentences)
        files.append({"path": str(path), "sha256": file_sha256(path), "sentences": len(corpus.sentences)})
    gold = [map_types(s.tags, label_map) for s in sentences]
    predictor = predictor or load_predictor(model, threads=threads, decoding=decoding, runtime=runtime)
    # Both sides are mapped before the check, so it sees the types that will be compared.
    model_types = {label_map.get(t, t) for t in labels_of(predictor.labels)} - {"O"}
    warnings = check_types({t for tags in gold for t in labels_of(tags)}, model_types, {})
    words = [[RECASES[recase](token) if recase else token for token in s.tokens] for s in sentences]
    predictions = predictor.run(words)
    predicted = [map_types(tags, label_map) for tags in predictions.tags]
    default = entity_scores(gold, predicted)
    strict = entity_scores(gold, predicted, strict=True)
    errors = analyse_errors(gold, predicted)
    report = {
        "model": {
            "path": str(model),
            "description": predictor.description,
            "decoding": predictor.decoding,
            "types": sorted(labels_of(predictor.labels)),
        },
        "data": files,
        "label_map": label_map,
        "recased": recase,
        **{name: default[name] for name in AVERAGES},
        "per_type": default["per_type"],
        "strict": {**{name: strict[name] for name in AVERAGES}, "per_type": strict["per_type"]},
        "errors": errors.counts,
        "confusion": errors.confusion,
        "timing": {
            "sentences": len(sentences),
            "words": sum(len(s.tokens) for s in sentences),
            "model_seconds": round(predictions.model_seconds, 3),
            "inference_seconds": round(predictions.inference_seconds, 3),
            "wall_seconds": round(time.perf_counter() - started, 3),
        },
        "warnings": warnings,
    }
    if raw_text:
        report["raw_text"] = raw_text_evaluation(words, gold, predictor, label_map)
    return Evaluation(report, sentences, predicted, gold, errors)


def compare(current: dict[str, Any], baseline: dict[str, Any]) -> list[tuple[str, float, float, float]]:
    """(metric, baseline, current, delta) for the averages and every per-type F1 both reports have.

    >>> compare({"micro": {"f1": 0.9}, "per_type": {}}, {"micro": {"f1": 0.8}, "per_type": {}})
    [('micro f1', 0.8, 0.9, 0.1)]
    """
    rows = []
    for average in AVERAGES:
        for metric in ("precision", "recall", "f1"):
            old = baseline.get(average, {}).get(metric)
            new = current.get(average, {}).get(metric)
            if isinstance(old, int | float) and isinstance(new, int | float):
                rows.append((f"{average} {metric}", old, new, round(new - old, 4)))
    for name in sorted(set(current.get("per_type", {})) & set(baseline.get("per_type", {}))):
        old, new = baseline["per_type"][name].get("f1"), current["per_type"][name].get("f1")
        if isinstance(old, int | float) and isinstance(new, int | float):
            rows.append((f"{name} f1", old, new, round(new - old, 4)))
    return rows
