"""The label space of a model: which entity types it learns, checked across the sources.

The sources must agree: a type that one training source uses and another never does would teach the
model contradictory things (the teacher's ``MISC`` against gold data without it), so it is an error
unless a label map says what that type becomes (itself, to keep it; another type; or ``O`` to drop
it). The dev set may not use a type the model cannot learn.

>>> LabelSpace(("PER", "LOC")).labels
('O', 'B-LOC', 'I-LOC', 'B-PER', 'I-PER')
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nerd.errors import LabelMapError
from nerd.labels import read_string_map
from nerd.spans import is_type_name
from nerd.training.sources import Source


@dataclass(frozen=True)
class LabelSpace:
    """Entity types and the IOB2 labels a token-classification head predicts, ``O`` first."""

    types: tuple[str, ...]

    def __post_init__(self) -> None:
        object.__setattr__(self, "types", tuple(sorted(set(self.types))))

    @property
    def labels(self) -> tuple[str, ...]:
        return ("O", *(f"{prefix}-{name}" for name in self.types for prefix in ("B", "I")))

    @property
    def label2id(self) -> dict[str, int]:
        return {label: index for index, label in enumerate(self.labels)}

    @property
    def id2label(self) -> dict[int, str]:
        return dict(enumerate(self.labels))


def load_label_map(path: str | Path) -> dict[str, str]:
    """A label map file: ``{"SOURCE_TYPE": "TARGET_TYPE" | "O", ...}``.

    Raises:
        LabelMapError: unreadable, not a JSON object of strings, or a name that cannot be an IOB type.
    """
    data = read_string_map(path)
    for key, value in data.items():
        for name in (key, value):
            if not is_type_name(name):
                raise LabelMapError(f"{name!r} cannot be an entity type in IOB tags", path=path, field=key)
    return data


def build_label_space(
    training: Sequence[Source], dev: Source, label_map: dict[str, str] | None = None
) -> LabelSpace:
    """The union of the training sources' types, after checking they agree with each other and the dev set.

    ``label_map`` has already been applied to the sources; its keys (and targets) count as settled.

    Raises:
        LabelMapError: a type used by one training source only, a dev type no training source has, or
            training data with no entity at all.
    """
    settled = set(label_map or {}) | set((label_map or {}).values())
    types = set().union(*(source.types for source in training))
    if len(training) > 1:
        for source in training:
            others = [other for other in training if other is not source]
            for name in sorted(source.types - settled):
                if any(name not in other.types for other in others):
                    missing = ", ".join(o.role for o in others if name not in o.types)
                    raise LabelMapError(
                        f"type {name!r} appears in the {source.role} data but not in the {missing} data; "
                        f'say what it becomes with --label-map (e.g. {{"{name}": "{name}"}} to keep it, '
                        f'{{"{name}": "O"}} to drop it)'
                    )
    unknown = sorted(dev.types - types)
    if unknown:
        raise LabelMapError(
            f"the dev data uses {', '.join(unknown)}, which no training source has; map it with --label-map"
        )
    if not types:
        raise LabelMapError("the training data has no entities at all")
    return LabelSpace(tuple(types))
