"""Builders for the records and files tests need: Batch lines, per-line exports, tiny CoNLL files."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

from nerd.annotation.batch_requests import request_line
from nerd.annotation.prompt_templates import Template, build_messages
from nerd.labels import CONLL_DEFINITIONS


def request(custom_id: str, sentence: str, model: str = "teacher-x") -> str:
    messages = build_messages(Template.cot, CONLL_DEFINITIONS, sentence.split(), [])
    return request_line(custom_id, model, 0.0, messages)


def cot_answer(result: str) -> str:
    return (
        "Let's work through the sentence step by step.\n1. Context: news.\n2. Candidate entities: ...\n"
        f"3. Types: ...\n4. Justification: ...\n{result}"
    )


def output_line(
    custom_id: str, content: str, *, finish_reason: str = "stop", model: str = "teacher-x"
) -> str:
    return json.dumps(
        {
            "id": f"batch_req_{custom_id}",
            "custom_id": custom_id,
            "response": {
                "status_code": 200,
                "request_id": "r",
                "body": {
                    "model": model,
                    "choices": [
                        {
                            "index": 0,
                            "message": {"role": "assistant", "content": content},
                            "finish_reason": finish_reason,
                        }
                    ],
                },
            },
            "error": None,
        }
    )


def error_line(custom_id: str, status: int = 429) -> str:
    return json.dumps(
        {
            "id": f"batch_req_{custom_id}",
            "custom_id": custom_id,
            "response": {
                "status_code": status,
                "body": {"error": {"message": "Rate limit reached", "type": "x"}},
            },
            "error": None,
        }
    )


def per_line(identifier: str, text: str, response: str, *, finish_reason: str = "stop") -> str:
    return json.dumps(
        {
            "id": identifier,
            "text": text,
            "model": "teacher-x",
            "finish_reason": finish_reason,
            "response": response,
        }
    )


def structured(identifier: str, tokens: list[str], entities: dict[str, Any]) -> str:
    return json.dumps({"id": identifier, "tokens": tokens, "entities": entities})


def write_lines(path: Path, lines: list[str | bytes]) -> Path:
    path.parent.mkdir(parents=True, exist_ok=True)
    data = b"".join((line if isinstance(line, bytes) else line.encode()) + b"\n" for line in lines)
    path.write_bytes(data)
    return path


def conll_text(sentences: list[list[tuple[str, str]]]) -> str:
    return "".join("".join(f"{token} {tag}\n" for token, tag in sentence) + "\n" for sentence in sentences)


def generation_request(custom_id: str, easy: int = 2, hard: int = 1) -> str:
    """A generation request as nerd evolve plan writes it, showing one mistake."""
    from nerd.evolution.evokd_prompt import build_messages as generation_messages
    from nerd.evolution.mistakes import Example

    mistake = Example(
        index=0,
        text="Acme rose in Paris .",
        gold={"ORG": ["Acme"], "LOC": ["Paris"]},
        predicted={"LOC": ["Paris"]},
        errors=({"kind": "missed", "gold": {"text": "Acme", "label": "ORG"}, "predicted": None},),
    )
    messages = generation_messages(
        CONLL_DEFINITIONS,
        round_number=1,
        f1=0.5,
        summary={"by_kind": {"missed": 1}},
        history=[],
        mistakes=[mistake],
        correct=[],
        easy=easy,
        hard=hard,
    )
    return request_line(custom_id, "teacher-x", 1.0, messages)


def generation_answer(items: list[Any], analysis: str = "The student misses ORG at sentence start.") -> str:
    return f"Analysis: {analysis}\nResult: {json.dumps(items, ensure_ascii=False)}"
