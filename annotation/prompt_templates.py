"""The paper's two prompt templates: standard few-shot and chain-of-thought.

Both end the answer with ``Result:`` and a JSON object mapping each type to the entity strings, the
form :mod:`nerd.annotation.answers` reads back. A chain-of-thought prompt asks for the paper's four steps
first: understand the context, list candidate entities, type each from context, justify.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from enum import StrEnum
from typing import Any

from nerd.annotation.record_shapes import SENTENCE_PREFIX
from nerd.conll import Sentence
from nerd.spans import entity_strings

# Bump when the wording changes: it is part of every custom_id, so old answers never pass for new ones.
TEMPLATE_REVISION = 1


class Template(StrEnum):
    """Which prompt to send."""

    standard = "standard"
    cot = "cot"


def prompt_version(template: Template) -> str:
    """The version string of a template, e.g. ``cot-v1``."""
    return f"{template.value}-v{TEMPLATE_REVISION}"


def system_prompt(template: Template, definitions: Mapping[str, str]) -> str:
    """The instructions: the task, the label definitions, and the answer format."""
    types = "\n".join(f"- {label}: {definition}" for label, definition in definitions.items())
    fmt = (
        "a JSON object mapping each type to the list of its entity strings, copied exactly as they "
        'appear in the sentence, e.g. {"PER": ["Jane Doe"], "LOC": []}.'
    )
    if template is Template.cot:
        return (
            "You are an expert NLP annotator. Identify the named entities in the sentence, of these types:\n"
            f"{types}\n"
            "Reason step by step: 1) understand the context, 2) list candidate entities, 3) decide each "
            "type from context, 4) justify. Then write a last line that starts with 'Result:' followed by "
            f"{fmt}"
        )
    return (
        "You are an expert NLP annotator. Identify the named entities in the sentence, of these types:\n"
        f"{types}\n"
        f"Answer with one line that starts with 'Result:' followed by {fmt}"
    )


def entities_of(sentence: Sentence, labels: Sequence[str]) -> dict[str, list[str]]:
    """The gold entities of a sentence as the answer dict, every label present (empty where none)."""
    return {label: [] for label in labels} | entity_strings(sentence.tokens, sentence.tags)


def example_answer(template: Template, sentence: Sentence, labels: Sequence[str]) -> str:
    """What a good answer to an example looks like: reasoning written from the gold tags, then the result."""
    entities = entities_of(sentence, labels)
    result = "Result: " + json.dumps(entities, ensure_ascii=False)
    if template is Template.standard:
        return result
    found = [(label, text) for label, texts in entities.items() for text in texts]
    candidates = ", ".join(text for _, text in found) or "none"
    types = "; ".join(f"{text} is {label}" for label, text in found) or "no named entities"
    return (
        "1. Context: " + _context_hint(sentence) + "\n"
        f"2. Candidate entities: {candidates}.\n"
        f"3. Types: {types}.\n"
        "4. Justification: each type follows from how the name is used in this sentence.\n" + result
    )


def _context_hint(sentence: Sentence) -> str:
    words = len(sentence.tokens)
    if words <= 6 and all(token.isupper() or not token.isalpha() for token in sentence.tokens):
        return "a headline or dateline."
    return "a news sentence." if words > 6 else "a short fragment."


def build_messages(
    template: Template,
    definitions: Mapping[str, str],
    tokens: Sequence[str],
    examples: Sequence[Sentence],
) -> list[dict[str, Any]]:
    """Chat messages: instructions, each example as a user/assistant turn, then the sentence."""
    labels = list(definitions)
    messages: list[dict[str, Any]] = [{"role": "system", "content": system_prompt(template, definitions)}]
    for example in examples:
        messages.append({"role": "user", "content": SENTENCE_PREFIX + " ".join(example.tokens)})
        messages.append({"role": "assistant", "content": example_answer(template, example, labels)})
    messages.append({"role": "user", "content": SENTENCE_PREFIX + " ".join(tokens)})
    return messages
