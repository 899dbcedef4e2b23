"""``nerd evolve plan``: run the student on labelled data and write the round's Batch requests.

Each request shows the teacher a handful of the student's mistakes and of its correct answers, the
history of earlier rounds, and asks for an analysis and new sentences (easy and hard). The mistakes
are shuffled with the seed and dealt out, so the requests together cover as many as they can.
"""

from __future__ import annotations

import json
import random
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from nerd import __version__
from nerd.annotation.batch_requests import (
    DEFAULT_MODEL,
    PART_PATTERN,
    custom_id,
    request_line,
    split_into_files,
    write_request_files,
)
from nerd.atomic import OutputError, atomic_write_text
from nerd.errors import ConfigError
from nerd.evaluation.evaluating import Evaluation, evaluate
from nerd.evaluation.predictors import load_predictor
from nerd.evolution.evokd_prompt import PROMPT_VERSION, build_messages
from nerd.evolution.mistakes import Example, correct_sample, error_summary, mistakes_of
from nerd.evolution.rounds import EVALUATION_BEFORE_FILE, ROUND_FILE, history_entry, rounds_in
from nerd.labels import LabelSet

# What a plan writes besides the request parts; the round file is written last and marks a finished plan.
PLAN_FILES = frozenset(
    {"manifest.json", "mistakes.jsonl", "correct.jsonl", "history.json", EVALUATION_BEFORE_FILE, ROUND_FILE}
)


@dataclass(frozen=True)
class PlanOptions:
    """How many requests, and what each one shows and asks for."""

    requests: int = 40
    mistakes_per_request: int = 8
    correct_per_request: int = 3
    easy: int = 5
    hard: int = 5
    model: str = DEFAULT_MODEL
    temperature: float = 1.0  # generation wants variety, unlike annotation
    max_tokens: int | None = None
    labels: LabelSet | None = None
    seed: int = 0

    def check(self) -> None:
        if self.requests < 1 or self.mistakes_per_request < 1:
            raise ConfigError("--requests and --mistakes-per-request must be at least 1")
        if self.easy < 0 or self.hard < 0 or self.easy + self.hard < 1:
            raise ConfigError("--easy and --hard must ask for at least one sentence together")
        if self.correct_per_request < 0:
            raise ConfigError("--correct-per-request cannot be negative")


@dataclass
class Plan:
    """What a plan wrote, for the command to show."""

    state: dict[str, Any]
    directory: Path
    manifest: dict[str, Any]


def _jsonl(rows: Sequence[dict[str, Any]]) -> str:
    return "".join(json.dumps(row, ensure_ascii=False, separators=(",", ":")) + "\n" for row in rows)


def _is_plan_output(path: Path) -> bool:
    return path.is_file() and (path.name in PLAN_FILES or fnmatch(path.name, PART_PATTERN))


def _check_out(out: Path, force: bool) -> None:
    """An empty directory, or with ``force`` one holding a plan's own files only: a round whose
    requests went out and came back (an output file, an import) is never replaced."""
    if out.exists() and not out.is_dir():
        raise OutputError(f"{out}: exists and is not a directory")
    if not out.is_dir() or not any(out.iterdir()):
        return
    if not force:
        raise OutputError(f"{out}: is not empty; plan each round into a new directory (--force re-plans)")
    others = sorted(path.name for path in out.iterdir() if not _is_plan_output(path))
    if others:
        raise OutputError(
            f"{out}: also holds {', '.join(others[:5])}, which nerd evolve plan did not write (the "
            "teacher's answers or their import?); plan the next round into a new directory instead"
        )
    for path in out.iterdir():
        path.unlink()


def _deal_requests(
    mistakes: Sequence[Example],
    correct: Sequence[Example],
    count: int,
    options: PlanOptions,
    definitions: dict[str, str],
    **content: Any,
) -> list[tuple[str, str, list[Example]]]:
    """(request line, custom_id, mistakes shown) for ``count`` requests: the mistakes shuffled with the
    seed and dealt out, ``mistakes_per_request`` each, with the next ``correct_per_request`` correct
    examples."""
    order = list(mistakes)
    random.Random(options.seed).shuffle(order)
    per, right = options.mistakes_per_request, options.correct_per_request
    requests = []
    for request in range(count):
        batch = order[request * per : (request + 1) * per]
        identifier = custom_id(
            f"evolve-r{content['round_number']}",
            PROMPT_VERSION,
            [str(options.seed), str(request)] + [example.text for example in batch],
        )
        messages = build_messages(
            definitions,
            mistakes=batch,
            correct=correct[request * right : (request + 1) * right],
            easy=options.easy,
            hard=options.hard,
            **content,
        )
        line = request_line(identifier, options.model, options.temperature, messages, options.max_tokens)
        requests.append((line, identifier, batch))
    return requests


def _scores(evaluation: Evaluation) -> dict[str, Any]:
    report = evaluation.report
    return {"micro": report["micro"], "per_type": report["per_type"]}


@dataclass(frozen=True)
class RoundContents:
    """Everything a round writes, computed before anything is: the requests and what they show."""

    number: int
    earlier: list[Any]
    evaluation: Evaluation
    before: Evaluation | None
    summary: dict[str, Any]
    history: list[dict[str, Any]]
    definitions: dict[str, str]
    correct: list[Example]
    lines: list[str]
    ids: list[str]
    # Each mistake with the request that shows it (None for those no request had room for).
    mistakes: list[dict[str, Any]]
    shown: int


def compute_round(
    model: Path,
    data: Sequence[Path],
    out: Path,
    options: PlanOptions,
    *,
    eval_data: Sequence[Path] = (),
    threads: int | None = None,
) -> RoundContents:
    """Score the student, collect its mistakes and deal them into requests: a value, nothing written.

    Raises:
        ConfigError: a student whose types the label definitions do not cover, or one without mistakes.
    """
    labels = options.labels or LabelSet.conll()
    earlier = [round_ for round_ in rounds_in(out.parent) if round_.directory.resolve() != out.resolve()]
    number = max((round_.number for round_ in earlier), default=0) + 1
    student = load_predictor(model, threads=threads)
    evaluation = evaluate(model, data, predictor=student)
    # Every type the student knows, not only those in the data: an unlisted type in a generated
    # sentence would be left untagged and teach the student that it is no entity.
    student_types = set(evaluation.report["model"]["types"])
    missing = sorted(student_types - set(labels.labels))
    if missing:
        raise ConfigError(
            f"the student tags {', '.join(missing)}, which the label definitions lack: pass --labels FILE "
            '({"TYPE": "definition", ...}) covering every type'
        )
    before = evaluate(model, eval_data, predictor=student) if eval_data else None
    mistakes = mistakes_of(evaluation.sentences, evaluation.predicted, evaluation.errors.sentences)
    if not mistakes:
        raise ConfigError("the student makes no mistake on this data: nothing to learn from; use other data")
    summary = error_summary(mistakes)
    history = [history_entry(round_) for round_ in earlier]
    count = min(options.requests, -(-len(mistakes) // options.mistakes_per_request))
    correct = correct_sample(
        evaluation.sentences, evaluation.errors.sentences, count * options.correct_per_request, options.seed
    )
    definitions = {label: labels.definitions[label] for label in labels.labels if label in student_types}
    requests = _deal_requests(
        mistakes,
        correct,
        count,
        options,
        definitions,
        round_number=number,
        f1=evaluation.report["micro"]["f1"],
        summary=summary,
        history=history,
    )
    shown = [
        {"request": identifier, **example.to_json()} for _, identifier, batch in requests for example in batch
    ]
    shown_indices = {row["index"] for row in shown}
    unshown = [{"request": None, **m.to_json()} for m in mistakes if m.index not in shown_indices]
    return RoundContents(
        number=number,
        earlier=earlier,
        evaluation=evaluation,
        before=before,
        summary=summary,
        history=history,
        definitions=definitions,
        correct=list(correct),
        lines=[line for line, _, _ in requests],
        ids=[identifier for _, identifier, _ in requests],
        mistakes=sorted(shown + unshown, key=lambda row: row["index"]),
        shown=len(shown),
    )


def round_state(
    contents: RoundContents, model: Path, options: PlanOptions, eval_data: Sequence[Path]
) -> dict[str, Any]:
    """round.json: what the round is, for the import, the retraining and the next round."""
    evaluation, before = contents.evaluation, contents.before
    return {
        "round": contents.number,
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "nerd": __version__,
        "student": {"path": str(model), "description": evaluation.report["model"]["description"]},
        "data": evaluation.report["data"],
        "scores": _scores(evaluation),
        "eval": None if before is None else {"data": [str(path) for path in eval_data], **_scores(before)},
        "errors": contents.summary,
        "requests": {
            "count": len(contents.lines),
            "mistakes_shown": contents.shown,
            "mistakes_per_request": options.mistakes_per_request,
            "correct_per_request": options.correct_per_request,
            "easy": options.easy,
            "hard": options.hard,
            "model": options.model,
            "temperature": options.temperature,
            "prompt_version": PROMPT_VERSION,
            "seed": options.seed,
        },
        "earlier_rounds": [round_.number for round_ in contents.earlier],
        "request_ids": contents.ids,
    }


def write_round(
    out: Path, contents: RoundContents, state: dict[str, Any], options: PlanOptions
) -> dict[str, Any]:
    """The round's six files (requests and their manifest, mistakes, correct examples, history, the
    held-out scores before, round.json last); returns the requests' manifest."""
    out.mkdir(parents=True, exist_ok=True)
    lines = contents.lines
    manifest = write_request_files(
        out,
        split_into_files(lines),
        {
            "prompt_version": PROMPT_VERSION,
            "kind": "generation",
            "model": options.model,
            "temperature": options.temperature,
            "max_tokens": options.max_tokens,
            "labels": contents.definitions,
            "counts": {"requests": len(lines), "sentences_asked": len(lines) * (options.easy + options.hard)},
        },
        force=True,
    )
    atomic_write_text(out / "mistakes.jsonl", _jsonl(contents.mistakes))
    atomic_write_text(out / "correct.jsonl", _jsonl([example.to_json() for example in contents.correct]))
    atomic_write_text(out / "history.json", json.dumps(contents.history, ensure_ascii=False, indent=2) + "\n")
    if contents.before is not None:
        # The same report as nerd evaluate --json: the retrained student's --compare baseline.
        report = json.dumps(contents.before.report, ensure_ascii=False, indent=2) + "\n"
        atomic_write_text(out / EVALUATION_BEFORE_FILE, report)
    atomic_write_text(out / ROUND_FILE, json.dumps(state, ensure_ascii=False, indent=2) + "\n")
    return manifest


def plan_round(
    model: Path,
    data: Sequence[Path],
    out: Path,
    options: PlanOptions,
    *,
    eval_data: Sequence[Path] = (),
    force: bool = False,
    threads: int | None = None,
) -> Plan:
    """Score the student, collect its mistakes, write the round's requests and state into ``out``.

    Raises:
        ConfigError: bad options, or a student whose types the label definitions do not cover.
        OutputError: ``out`` is not empty (and not a round to replace with ``force``).
        InputError: unreadable data or model.
    """
    options.check()
    _check_out(out, force)
    contents = compute_round(model, data, out, options, eval_data=eval_data, threads=threads)
    state = round_state(contents, model, options, eval_data)
    manifest = write_round(out, contents, state, options)
    return Plan(state, out, manifest)
