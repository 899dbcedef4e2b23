"""A stand-in teacher for rehearsing a round offline: templates and a gazetteer, no language model.

It answers a round's generation requests the way the Batch API would (one output line per request)
so the round trip (plan, answer, import, train, evaluate) can run where no LLM can be reached. What
it writes is formulaic: each sentence puts one entity the student got wrong (read from the request's
mistakes) into a fixed template, with other slots filled from a gazetteer of gold entities. Its
"analysis" is a count of the errors it was shown. It shows whether the plumbing works and what
targeted, correctly labelled sentences alone do; it cannot show what an LLM's analysis and varied
writing add.
"""

from __future__ import annotations

import json
import random
import re
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from nerd.annotation.answer_lines import read_lines
from nerd.annotation.record_shapes import RecordProblem, last_user_message, read_request
from nerd.conll import read_conll
from nerd.errors import InputError
from nerd.spans import iob2_to_spans

STAND_IN_MODEL = "nerd-stand-in-template-teacher"
_COUNTS = re.compile(r"^Generate: (\d+) sentences, (\d+) easy and (\d+) hard", re.MULTILINE)
_CORRECT = re.compile(r"^\s+Correct: (\{.*\})$", re.MULTILINE)
_ERRORS = re.compile(r"^\s+Errors: (.*)$", re.MULTILINE)
_QUOTED = re.compile(r'^(missed|wrong type|wrong boundary|wrong boundary and type|spurious): "(.+?)"')

# Slots: {T} is the target entity, {PER} {ORG} {LOC} {MISC} are filled from the gazetteer.
_EASY = (
    "{T} said on Monday it was pleased with the result .",
    "Officials from {T} met {PER} in {LOC} on Tuesday .",
    "{PER} told reporters in {LOC} that {T} would not comment .",
    "The statement by {T} was released in {LOC} .",
    "Talks between {T} and {ORG} ended without agreement .",
)
_HARD = (
    "{T} , {LOC} 1996-08-22",
    "{UPPER_T} SAYS IT WILL APPEAL",
    "{T} 2 {ORG} 1 ( halftime 1-0 )",
    "-- {T} , newsroom +44 171 542 7658",
    "After {T} , {PER} flew on to {LOC} with {ORG} staff .",
    "{PER} ( {T} ) 71 69 70",
)
_NOT_ENTITY_TEMPLATES = (
    "{PER} said {X} would change nothing in {LOC} .",
    "In {LOC} , {X} was the main topic for {ORG} .",
)


@dataclass(frozen=True)
class Target:
    """An entity the student got wrong (``label`` None: a string it wrongly took for an entity)."""

    text: str
    label: str | None


def load_gazetteer(path: Path) -> dict[str, list[str]]:
    """Entity strings by type from a CoNLL file, in file order, each once.

    Raises:
        InputError: an unreadable file or one without entities.
    """
    found: dict[str, list[str]] = {}
    for sentence in read_conll(path).sentences:
        for span in iob2_to_spans(sentence.tags):
            text = " ".join(sentence.tokens[span.start : span.end])
            if text not in found.setdefault(span.label, []):
                found[span.label].append(text)
    if not found:
        raise InputError("the gazetteer file has no entities", path=path)
    return found


def targets_of(prompt: str) -> list[Target]:
    """The entities behind the errors a request shows, from its ``Correct:`` and ``Errors:`` lines."""
    gold_types: dict[str, str] = {}
    for match in _CORRECT.finditer(prompt):
        try:
            entities = json.loads(match.group(1))
        except (json.JSONDecodeError, RecursionError):
            continue
        if not isinstance(entities, dict):
            continue
        for label, strings in entities.items():
            for text in strings if isinstance(strings, list) else []:
                if isinstance(text, str):
                    gold_types.setdefault(text, label)
    targets: list[Target] = []
    for line in _ERRORS.finditer(prompt):
        for part in line.group(1).split("; "):
            quoted = _QUOTED.match(part)
            if quoted is None:
                continue
            kind, text = quoted.groups()
            if kind == "spurious":
                # A capitalised string the student took for an entity is often part of a real one
                # ("Ukrainian" in "Ukrainian Academy"): written as no entity, it would teach a lie.
                if any(word[:1].isupper() for word in text.split()):
                    continue
                target = Target(text, None)
            else:
                target = Target(text, gold_types.get(text))
            if (kind == "spurious" or target.label is not None) and target not in targets:
                targets.append(target)
    return targets


def _fill(
    template: str, target: Target, gazetteer: Mapping[str, Sequence[str]], rng: random.Random
) -> tuple[str, dict[str, list[str]]]:
    entities: dict[str, list[str]] = {}

    def add(label: str | None, text: str) -> str:
        if label is not None and text not in entities.setdefault(label, []):
            entities[label].append(text)
        return text

    def slot(match: re.Match[str]) -> str:
        name = match.group(1)
        if name in {"T", "X"}:
            return add(target.label, target.text)
        if name == "UPPER_T":
            return add(target.label, target.text.upper())
        pool = [text for text in gazetteer.get(name, ()) if text != target.text] or ["Reuters"]
        return add(name if gazetteer.get(name) else "ORG", rng.choice(pool))

    text = re.sub(r"\{([A-Z_]+)\}", slot, template)
    return text, {label: strings for label, strings in entities.items() if strings}


def generate(
    targets: Sequence[Target],
    easy: int,
    hard: int,
    gazetteer: Mapping[str, Sequence[str]],
    rng: random.Random,
) -> list[dict[str, object]]:
    """``easy`` + ``hard`` sentences, the targets taken in turn."""
    if not targets:
        targets = [Target(rng.choice(strings), label) for label, strings in sorted(gazetteer.items())]
    sentences: list[dict[str, object]] = []
    for number in range(easy + hard):
        target = targets[number % len(targets)]
        difficulty = "easy" if number < easy else "hard"
        if target.label is None:
            templates: Sequence[str] = _NOT_ENTITY_TEMPLATES
        else:
            templates = _EASY if difficulty == "easy" else _HARD
        text, entities = _fill(rng.choice(templates), target, gazetteer, rng)
        sentences.append({"text": text, "entities": entities, "difficulty": difficulty})
    return sentences


def analysis(targets: Iterable[Target]) -> str:
    counts = Counter(target.label or "not an entity" for target in targets)
    listed = ", ".join(f"{label} {count}" for label, count in counts.most_common()) or "none"
    return (
        "Analysis (stand-in template teacher, not an LLM): the mistakes shown involve these gold "
        f"types: {listed}. Each new sentence repeats one of them in a fixed template."
    )


def answer_line(custom_id: str, content: str) -> str:
    """A Batch API output line answering ``custom_id`` with ``content``."""
    body = {
        "id": f"chatcmpl-{custom_id}",
        "object": "chat.completion",
        "model": STAND_IN_MODEL,
        "choices": [
            {"index": 0, "message": {"role": "assistant", "content": content}, "finish_reason": "stop"}
        ],
    }
    line = {
        "id": f"batch_req_{custom_id}",
        "custom_id": custom_id,
        "response": {"status_code": 200, "request_id": custom_id, "body": body},
        "error": None,
    }
    return json.dumps(line, ensure_ascii=False)


def answer_requests(
    request_files: Sequence[Path], gazetteer: Mapping[str, Sequence[str]], seed: int = 0
) -> list[str]:
    """One output line per generation request in ``request_files``.

    Raises:
        InputError: a line that is not a generation request.
    """
    rng = random.Random(seed)
    lines = []
    for path in request_files:
        for line in read_lines(path):
            if line.data is None:
                raise InputError(f"unreadable request ({line.problem})", path=path, line=line.number)
            try:
                request = read_request(line.data, str(path), line.number, line.raw)
            except RecordProblem as problem:
                raise InputError(problem.detail, path=path, line=line.number) from None
            if not request.generate:
                raise InputError(
                    "not a generation request (no 'Generate:' line)", path=path, line=line.number
                )
            prompt = last_user_message(line.data)
            assert prompt is not None  # read_request found the generation line in it
            counts = _COUNTS.search(prompt)
            easy, hard = (int(counts.group(2)), int(counts.group(3))) if counts else (request.generate, 0)
            targets = targets_of(prompt)
            sentences = generate(targets, easy, hard, gazetteer, rng)
            content = analysis(targets) + "\nResult: " + json.dumps(sentences, ensure_ascii=False)
            lines.append(answer_line(request.custom_id, content))
    return lines
