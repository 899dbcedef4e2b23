"""Entity label sets, their definitions (used in prompts) and the synonyms teachers answer with."""

from __future__ import annotations

import json
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

from nerd.errors import LabelMapError
from nerd.spans import is_type_name

CONLL_DEFINITIONS: dict[str, str] = {
    "PER": "person: names of people, real or fictional, including family names on their own",
    "ORG": "organization: companies, institutions, agencies, political parties, sports teams, clubs",
    "LOC": "location: countries, cities, regions, geographical and political areas, facilities",
    "MISC": "miscellaneous: other names: nationalities, religions, events, works, products, languages",
}

# What teachers write instead of the CoNLL labels; keys are compared case-insensitively.
DEFAULT_SYNONYMS: dict[str, str] = {
    "person": "PER",
    "persons": "PER",
    "people": "PER",
    "per": "PER",
    "pers": "PER",
    "organization": "ORG",
    "organisation": "ORG",
    "organizations": "ORG",
    "organisations": "ORG",
    "org": "ORG",
    "company": "ORG",
    "location": "LOC",
    "locations": "LOC",
    "loc": "LOC",
    "place": "LOC",
    "gpe": "LOC",
    "geopolitical entity": "LOC",
    "misc": "MISC",
    "miscellaneous": "MISC",
    "other": "MISC",
    "others": "MISC",
}


def _key(label: str) -> str:
    return re.sub(r"[\s_\-]+", " ", label.strip()).casefold()


@dataclass(frozen=True)
class LabelSet:
    """The entity types a project uses, their definitions and how synonyms map onto them."""

    definitions: Mapping[str, str]
    synonyms: Mapping[str, str] = field(default_factory=dict)

    def __post_init__(self) -> None:
        for synonym, label in self.synonyms.items():
            if label not in self.definitions:
                known = ", ".join(self.labels)
                raise LabelMapError(f"synonym {synonym!r} maps to unknown label {label!r} (known: {known})")

    @property
    def labels(self) -> tuple[str, ...]:
        """The label names, in definition order."""
        return tuple(self.definitions)

    def canonical(self, label: str) -> str | None:
        """The label a teacher's label means, or None when it means none of ours."""
        if label in self.definitions:
            return label
        key = _key(label)
        for name in self.definitions:
            if _key(name) == key:
                return name
        return self.synonyms.get(key)

    @classmethod
    def conll(cls) -> LabelSet:
        """CoNLL-2003's four types with the default synonyms."""
        return cls(dict(CONLL_DEFINITIONS), {_key(k): v for k, v in DEFAULT_SYNONYMS.items()})

    def with_synonyms(self, synonyms: Mapping[str, str]) -> LabelSet:
        """A copy with extra synonyms (they win over the defaults)."""
        merged = dict(self.synonyms)
        merged.update({_key(k): v for k, v in synonyms.items()})
        return LabelSet(dict(self.definitions), merged)


def load_label_set(
    definitions_path: str | Path | None = None, synonyms_path: str | Path | None = None
) -> LabelSet:
    """The CoNLL label set, or the one a JSON file defines (``{"LABEL": "definition", ...}``), with
    synonyms from an optional JSON map (``{"Person": "PER", ...}``).

    Raises:
        LabelMapError: a file that is not a JSON object of strings, or a synonym that maps to a label
            outside the set.
    """
    labels = LabelSet.conll()
    if definitions_path is not None:
        definitions = read_string_map(definitions_path)
        if not definitions:
            raise LabelMapError("defines no labels", path=definitions_path)
        for name in definitions:
            if not is_type_name(name):
                raise LabelMapError(f"label {name!r} cannot be used in IOB tags", path=definitions_path)
        # Default synonyms only where they still point at a defined label.
        kept = {k: v for k, v in labels.synonyms.items() if v in definitions}
        labels = LabelSet(definitions, kept)
    if synonyms_path is not None:
        synonyms = read_string_map(synonyms_path)
        for synonym, label in synonyms.items():
            if label not in labels.definitions:
                raise LabelMapError(
                    f"{synonym!r} maps to unknown label {label!r} (known: {', '.join(labels.labels)})",
                    path=synonyms_path,
                    field=synonym,
                )
        labels = labels.with_synonyms(synonyms)
    return labels


def read_string_map(path: str | Path) -> dict[str, str]:
    """A JSON file holding one object of strings to strings.

    Raises:
        LabelMapError: unreadable, not JSON, or not an object of strings.
    """
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except OSError as error:
        raise LabelMapError(f"cannot read: {error.strerror or error}", path=path) from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise LabelMapError(f"not a JSON file: {error}", path=path) from None
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise LabelMapError("expected a JSON object of strings to strings", path=path)
    return data
