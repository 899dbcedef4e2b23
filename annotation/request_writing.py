"""``nerd prompts``: turn sentences into annotation requests for the connected machine."""

from __future__ import annotations

import hashlib
import re
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from nerd.annotation.batch_requests import (
    DEFAULT_MODEL,
    MAX_BYTES_PER_FILE,
    MAX_REQUESTS_PER_FILE,
    custom_id,
    request_line,
    split_into_files,
    write_request_files,
)
from nerd.annotation.few_shot import ExamplePicker, Selection
from nerd.annotation.prompt_inputs import InputFormat, detect_format, read_sentences
from nerd.annotation.prompt_templates import Template, build_messages, prompt_version
from nerd.conll import read_conll
from nerd.errors import ConfigError, InputError
from nerd.labels import LabelSet
from nerd.spans import labels_of


@dataclass(frozen=True)
class PromptOptions:
    """What to ask and how to package it."""

    template: Template = Template.cot
    model: str = DEFAULT_MODEL
    temperature: float = 0.0
    max_tokens: int | None = None
    labels: LabelSet | None = None
    examples: Path | None = None
    shots: int = 0
    selection: Selection = Selection.fixed
    seed: int = 0
    id_prefix: str | None = None
    max_requests_per_file: int = MAX_REQUESTS_PER_FILE
    max_bytes_per_file: int = MAX_BYTES_PER_FILE


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def write_prompts(
    source: Path,
    out_dir: Path,
    options: PromptOptions,
    *,
    fmt: InputFormat = InputFormat.auto,
    text_field: str = "text",
    force: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> dict[str, Any]:
    """Write Batch request files for every distinct sentence of ``source``; returns the manifest.

    Raises:
        InputError: an unreadable input or examples file.
        ConfigError: few-shot asked for without an examples file, or nothing to ask about.
    """
    labels = options.labels or LabelSet.conll()
    if options.shots and options.examples is None:
        raise ConfigError("--shots needs --examples: a CoNLL file of gold sentences to show")
    if fmt is InputFormat.auto:
        fmt = detect_format(source)
    sentences = read_sentences(source, fmt, text_field=text_field)
    if not sentences:
        raise InputError("holds no sentence to annotate", path=source)
    picker = None
    if options.examples is not None and options.shots:
        pool = read_conll(options.examples).sentences
        unknown = labels_of(tag for sentence in pool for tag in sentence.tags) - set(labels.labels)
        if unknown:
            raise InputError(
                f"examples use labels outside the label set: {', '.join(sorted(unknown))}",
                path=options.examples,
            )
        picker = ExamplePicker(pool, options.shots, options.selection, seed=options.seed)

    version = prompt_version(options.template)
    prefix = options.id_prefix or re.sub(r"[^A-Za-z0-9_-]+", "-", source.stem).strip("-") or "nerd"
    lines: list[str] = []
    seen: set[str] = set()
    for done, sentence in enumerate(sentences, start=1):
        identifier = custom_id(prefix, version, sentence.tokens)
        if identifier in seen:
            continue
        seen.add(identifier)
        examples = picker.examples_for(sentence.tokens) if picker is not None else []
        messages = build_messages(options.template, labels.definitions, sentence.tokens, examples)
        lines.append(
            request_line(identifier, options.model, options.temperature, messages, options.max_tokens)
        )
        if progress is not None and (done % 500 == 0 or done == len(sentences)):
            progress(done, len(sentences))

    files = split_into_files(
        lines, max_requests=options.max_requests_per_file, max_bytes=options.max_bytes_per_file
    )
    manifest: dict[str, Any] = {
        "prompt_version": version,
        "template": options.template.value,
        "model": options.model,
        "temperature": options.temperature,
        "max_tokens": options.max_tokens,
        "labels": dict(labels.definitions),
        "input": {"file": str(source), "format": fmt.value, "sha256": _sha256(source)},
        "few_shot": None
        if picker is None or options.examples is None
        else {
            "file": str(options.examples),
            "sha256": _sha256(options.examples),
            "shots": picker.shots,
            "selection": options.selection.value,
            "seed": options.seed,
        },
        "counts": {
            "sentences": len(sentences),
            "duplicates_skipped": len(sentences) - len(lines),
            "requests": len(lines),
            "files": len(files),
        },
        "limits": {
            "requests_per_file": options.max_requests_per_file,
            "bytes_per_file": options.max_bytes_per_file,
        },
    }
    return write_request_files(out_dir, files, manifest, force=force)
