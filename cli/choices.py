"""Choices that several commands offer, as the enums typer turns into validated options."""

from __future__ import annotations

from enum import StrEnum


class DecodingChoice(StrEnum):
    """How per-word label scores become tags (:mod:`nerd.decoding`)."""

    viterbi = "viterbi"
    argmax = "argmax"


DECODING_HELP = (
    "viterbi: the most probable valid IOB2 tag sequence (a name is never split into two entities of "
    "different types); argmax: each word's best label, then repaired."
)


class RecaseChoice(StrEnum):
    """How ``nerd evaluate --recase`` rewrites every word before the model reads it."""

    lower = "lower"
    upper = "upper"


class RuntimeChoice(StrEnum):
    """What runs an exported bundle (:mod:`nerd.tagging.runtime_choice`)."""

    onnxruntime = "onnxruntime"
    openvino = "openvino"
