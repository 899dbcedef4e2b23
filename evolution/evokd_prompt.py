"""The EvoKD prompt: the student's mistakes and history in, a weakness analysis and new sentences out.

The answer format matches what ``nerd import`` reads for a generation request: reasoning first, then
``Result:`` and a JSON list of ``{"text", "entities", "difficulty"}`` objects. The last user message
carries the ``Generate: N sentences`` line by which the import knows the request.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from nerd.annotation.record_shapes import GENERATION_PREFIX, SENTENCE_PREFIX
from nerd.evolution.mistakes import Example, describe_error

# Bump when the wording changes: it is part of every custom_id.
EVOLVE_TEMPLATE_REVISION = 1
PROMPT_VERSION = f"evokd-v{EVOLVE_TEMPLATE_REVISION}"


def system_prompt(definitions: Mapping[str, str]) -> str:
    types = "\n".join(f"- {label}: {definition}" for label, definition in definitions.items())
    example = json.dumps(
        [
            {
                "text": "Jane Doe joined Acme Corp in Oslo .",
                "entities": {"PER": ["Jane Doe"], "ORG": ["Acme Corp"], "LOC": ["Oslo"]},
                "difficulty": "easy",
            }
        ],
        ensure_ascii=False,
    )
    return (
        "You help train a small named-entity recognition model (the student) that cannot see the "
        "internet. It tags these entity types:\n"
        f"{types}\n"
        "You are shown sentences the student got wrong (with the correct entities and the student's), "
        "sentences it got right, and what earlier rounds found. First analyse the student's weaknesses: "
        "which types, contexts, spellings or boundaries it gets wrong, and why. Then write new sentences "
        "that teach it what it lacks: easy ones that show each weak pattern plainly, and hard ones that "
        "put it in confusing contexts (names that are also common words, entities at the start of a "
        "sentence, long or adjacent names, all-caps headlines, sports results, datelines). Write new "
        "sentences in the style of the examples; do not copy them. Label every new sentence "
        "completely: every entity of every type, each string copied exactly as it appears in the text. "
        "End with a last part that starts with 'Result:' followed by a JSON list with one object per "
        f"sentence, for example: Result: {example}"
    )


def _example_lines(number: int, example: Example, with_errors: bool) -> list[str]:
    lines = [
        f"{number}. {SENTENCE_PREFIX}{example.text}",
        f"   Correct: {json.dumps(example.gold, ensure_ascii=False)}",
    ]
    if with_errors:
        lines.append(f"   Student: {json.dumps(example.predicted, ensure_ascii=False)}")
        lines.append("   Errors: " + "; ".join(describe_error(error) for error in example.errors))
    return lines


def _imported(entry: Mapping[str, Any]) -> str:
    return "an unknown number of" if entry.get("imported") is None else str(entry["imported"])


def _history_lines(history: Sequence[Mapping[str, Any]]) -> list[str]:
    if not history:
        return ["This is the first round: no earlier analysis."]
    lines = ["Earlier rounds (the student was retrained on the sentences each round produced):"]
    for entry in history:
        kinds = ", ".join(f"{kind} {count}" for kind, count in entry["errors"]["by_kind"].items()) or "none"
        lines.append(
            f"- Round {entry['round']}: micro F1 {entry['f1']:.3f} on the probe data; errors: {kinds}; "
            f"{_imported(entry)} new sentences were imported."
        )
        for analysis in entry.get("analyses", []):
            lines.append("  Your analysis then: " + " ".join(analysis.split()))
    return lines


def user_message(
    *,
    round_number: int,
    f1: float,
    summary: Mapping[str, Any],
    history: Sequence[Mapping[str, Any]],
    mistakes: Sequence[Example],
    correct: Sequence[Example],
    easy: int,
    hard: int,
) -> str:
    kinds = ", ".join(f"{kind} {count}" for kind, count in summary["by_kind"].items()) or "none"
    lines = [
        f"Round {round_number}. The student now scores micro F1 {f1:.3f} on the probe data; "
        f"its errors there: {kinds}.",
        *_history_lines(history),
        "",
        "Sentences the student got wrong:",
    ]
    for number, example in enumerate(mistakes, start=1):
        lines.extend(_example_lines(number, example, with_errors=True))
    if correct:
        lines += ["", "Sentences the student got right:"]
        for number, example in enumerate(correct, start=1):
            lines.extend(_example_lines(number, example, with_errors=False))
    lines += [
        "",
        "Analyse the weakness patterns these mistakes show, then write the new sentences.",
        f"{GENERATION_PREFIX}{easy + hard} sentences, {easy} easy and {hard} hard, aimed at the weaknesses "
        "you found.",
    ]
    return "\n".join(lines)


def build_messages(definitions: Mapping[str, str], **content: Any) -> list[dict[str, Any]]:
    """The chat messages of one generation request (see :func:`user_message` for ``content``)."""
    return [
        {"role": "system", "content": system_prompt(definitions)},
        {"role": "user", "content": user_message(**content)},
    ]
