"""The audit of an import: ``report.json`` (what ``nerd import`` prints) and the audit's event lines.

Everything here is computed from what the import decided (its outcomes) and changes none of it.
"""

from __future__ import annotations

import json
from collections import Counter
from typing import Any, NotRequired, TypedDict

from nerd.annotation.alignment import EventKind
from nerd.annotation.answer_tagging import Labelling
from nerd.annotation.import_outcomes import Outcome
from nerd.annotation.record_shapes import SENTENCE_PREFIX, Request, Shape
from nerd.annotation.reject_reasons import RejectReason
from nerd.records import TrainingRecord
from nerd.spans import iob2_to_spans


class EntityReport(TypedDict):
    """How the teacher's entity strings fared; one count per :class:`EventKind` besides these."""

    listed: int
    aligned_by_rung: dict[str, int]
    unknown_labels: dict[str, int]
    synonyms_mapped: dict[str, int]
    imported_by_type: dict[str, int]
    hallucinated_copied_from_prompt: NotRequired[int]


class ImportReport(TypedDict):
    """The audit of an import: ``report.json``, and what ``nerd import`` prints."""

    read: int
    imported: int
    rejected: int
    duplicates: int
    rejected_by_reason: dict[str, int]
    duplicates_by_kind: dict[str, int]
    requests: dict[str, int]
    files: list[dict[str, Any]]
    entities: EntityReport
    sentences_with_hallucinations: int
    retry_requests: int
    generated: NotRequired[dict[str, Any]]
    gold: NotRequired[dict[str, Any]]
    outputs: NotRequired[dict[str, str]]


def build_report(
    *,
    read: int,
    final: list[Outcome],
    duplicates: list[dict[str, Any]],
    requests: dict[str, Request],
    files: list[dict[str, Any]],
    records: list[TrainingRecord],
    events: list[dict[str, Any]],
    retry_count: int,
) -> ImportReport:
    """The report of an import from its final outcomes (one per id, in output order)."""
    rejected = [outcome for outcome in final if not outcome.imported]
    unanswered = sum(1 for outcome in rejected if outcome.reason is RejectReason.NO_RESPONSE)
    labelled = [outcome.labelling for outcome in final if outcome.labelling is not None]
    by_type: Counter[str] = Counter(span.label for record in records for span in iob2_to_spans(record.tags))
    report: ImportReport = {
        "read": read,
        "imported": len(records),
        "rejected": len(rejected),
        "duplicates": len(duplicates),
        "rejected_by_reason": dict(sorted(Counter(outcome.reason for outcome in rejected).items())),
        "duplicates_by_kind": dict(sorted(Counter(item["kind"] for item in duplicates).items())),
        "requests": {"total": len(requests), "unanswered": unanswered},
        "files": files,
        "entities": _entity_report(labelled, by_type),
        "sentences_with_hallucinations": sum(
            1 for labelling in labelled if labelling.count(EventKind.HALLUCINATED)
        ),
        "retry_requests": retry_count,
    }
    report["entities"]["hallucinated_copied_from_prompt"] = sum(
        1 for event in events if event.get("copied_from_prompt")
    )
    if any(request.generate for request in requests.values()):
        report["generated"] = generated_report(requests, final)
    return report


def _entity_report(labelled: list[Labelling], by_type: Counter[str]) -> EntityReport:
    rungs: Counter[str] = Counter()
    kinds: Counter[str] = Counter()
    synonyms: Counter[str] = Counter()
    unknown_labels: Counter[str] = Counter()
    for labelling in labelled:
        rungs.update({rung.value: count for rung, count in labelling.rungs.items()})
        kinds.update(event.kind.value for event in labelling.events)
        synonyms.update(labelling.synonyms_mapped)
        unknown_labels.update(labelling.unknown_labels)
    return {  # type: ignore[typeddict-item]  # the EventKind counts are keys of their own
        "listed": sum(labelling.listed for labelling in labelled),
        "aligned_by_rung": {rung: rungs.get(rung, 0) for rung in ("exact", "case_insensitive", "normalised")},
        # One count for every kind of alignment event, in the enum's order: the CLI lists these too.
        **{kind.value: kinds.get(kind.value, 0) for kind in EventKind},
        "unknown_labels": dict(sorted(unknown_labels.items())),
        "synonyms_mapped": dict(sorted(synonyms.items())),
        "imported_by_type": dict(sorted(by_type.items())),
    }


def generated_report(requests: dict[str, Request], final: list[Outcome]) -> dict[str, Any]:
    """What the generation requests (``nerd evolve plan``) asked for and what came of their sentences."""
    generation = {cid for cid, request in requests.items() if request.generate}
    sentences = [outcome for outcome in final if outcome.shape is Shape.GENERATED]
    imported = [outcome for outcome in sentences if outcome.imported]
    return {
        "requests": len(generation),
        "asked": sum(requests[cid].generate or 0 for cid in generation),
        "requests_rejected": sum(
            1
            for outcome in final
            if outcome.shape is not Shape.GENERATED and outcome.request_id in generation
        ),
        "sentences": len(sentences),
        "imported": len(imported),
        "rejected": len(sentences) - len(imported),
        "imported_by_difficulty": dict(
            sorted(Counter(outcome.difficulty or "unrated" for outcome in imported).items())
        ),
    }


def event_lines(final: list[Outcome], requests: dict[str, Request]) -> list[dict[str, Any]]:
    """The audit: one line per alignment event of every labelled outcome, in output order."""
    return [
        _event_line(outcome, event, requests)
        for outcome in final
        if outcome.labelling is not None
        for event in outcome.labelling.events
    ]


def _event_line(outcome: Outcome, event: Any, requests: dict[str, Request]) -> dict[str, Any]:
    line: dict[str, Any] = {
        "id": outcome.id,
        "kind": event.kind.value,
        "label": event.label,
        "text": event.text,
    }
    request = requests.get(outcome.request_id) if outcome.request_id else None
    if event.kind is EventKind.HALLUCINATED and request is not None and event.text.strip():
        # A small teacher often lists the names of its few-shot examples: a prompt problem, not noise.
        line["copied_from_prompt"] = event.text in prompt_context(request)
    if event.span is not None:
        line["span"] = [event.span.start, event.span.end]
    if event.kept is not None:
        line["kept"] = [event.kept.start, event.kept.end, event.kept.label]
    return line


def prompt_context(request: Request) -> str:
    """What the teacher was shown besides the sentence: instructions and few-shot examples."""
    try:
        messages = json.loads(request.raw)["body"]["messages"]
    except (json.JSONDecodeError, KeyError, TypeError):
        return ""
    texts = [m.get("content") for m in messages if isinstance(m, dict) and isinstance(m.get("content"), str)]
    if texts and SENTENCE_PREFIX in texts[-1]:
        texts[-1] = texts[-1].rsplit(SENTENCE_PREFIX, 1)[0]
    return "\n".join(texts)
