"""Everything a run needs, loaded and checked before the first step: bad input fails here, not mid-run."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nerd.errors import ConfigError
from nerd.training.base_model import BaseModel, check_base_model, check_word_shapes, default_base_model
from nerd.training.continuation import check_continuation
from nerd.training.features import Feature, encode
from nerd.training.label_space import LabelSpace, build_label_space, load_label_map
from nerd.training.presets import Hyperparameters
from nerd.training.schedules import Schedule, parse_schedule, schedule_weights
from nerd.training.sources import Source, load_source, relabel


@dataclass(frozen=True)
class Prepared:
    """Sources, label space, encoder and encoded windows, shared by every seed of a run."""

    schedule: Schedule
    plan: list[tuple[float, float]]
    hyperparameters: Hyperparameters
    distilled: Source | None
    original: Source | None
    dev: Source
    # Soft-labelled sentences (nerd label) join the distilled side of every schedule, after the
    # distilled ones: distilled_features holds both.
    soft: Source | None
    label_space: LabelSpace
    label_map: dict[str, str]
    base_model: BaseModel
    distilled_features: list[list[Feature]]  # per sentence: its windows
    original_features: list[list[Feature]]
    dev_features: list[Feature]
    warnings: list[str]


def prepare(
    *,
    distilled: Sequence[Path],
    original: Sequence[Path],
    dev: Path,
    schedule: str,
    hyperparameters: Hyperparameters,
    base_model: Path | None,
    label_map: Path | None,
    soft: Sequence[Path] = (),
) -> Prepared:
    """Read and check the sources, the schedule and the encoder; encode the sentences.

    Raises:
        ConfigError: a schedule that needs a source that was not given, or a bad base model.
        InputError: a missing, empty or malformed data file; an inconsistent label set.
    """
    parsed = parse_schedule(schedule)
    plan = schedule_weights(parsed, hyperparameters.epochs)
    uses_distilled = any(w0 > 0 for w0, _ in plan)
    uses_original = any(w1 > 0 for _, w1 in plan)
    warnings: list[str] = []
    if uses_distilled and not distilled and not soft:
        raise ConfigError(f"schedule {parsed} trains on distilled data: give --distilled or --soft FILE")
    if uses_original and not original:
        raise ConfigError(f"schedule {parsed} trains on original data: give --original FILE")
    if distilled and not uses_distilled:
        warnings.append(f"--distilled is not used: schedule {parsed} trains on original data only")
    if soft and not uses_distilled:
        warnings.append(f"--soft is not used: schedule {parsed} trains on original data only")
    if original and not uses_original:
        warnings.append(f"--original is not used: schedule {parsed} trains on distilled data only")
    mapping = load_label_map(label_map) if label_map is not None else {}
    distilled_source = (
        relabel(load_source("distilled", distilled), mapping) if uses_distilled and distilled else None
    )
    soft_source = relabel(load_source("soft", soft), mapping) if uses_distilled and soft else None
    original_source = relabel(load_source("original", original), mapping) if uses_original else None
    dev_source = relabel(load_source("dev", [dev]), mapping)
    training = [s for s in (distilled_source, soft_source, original_source) if s is not None]
    label_space = build_label_space(training, dev_source, mapping)
    for source in training:
        for name in sorted(set(label_space.types) - source.types):
            warnings.append(f"the {source.role} data has no {name} entity")
    model = check_base_model(base_model or default_base_model(), hyperparameters.max_length)
    check_word_shapes(model, hyperparameters.word_shapes)
    continuing = check_continuation(model.path, model.config, label_space)
    if continuing is not None:
        warnings.append(continuing)

    def windows(source: Source | None) -> list[list[Feature]]:
        if source is None:
            return []
        per_sentence: list[list[Feature]] = [[] for _ in source.examples]
        for feature in encode(
            source.examples,
            model.tokenizer,
            label_space,
            hyperparameters.max_length,
            label_all_subtokens=hyperparameters.label_all_subtokens,
            shapes=hyperparameters.word_shapes,
        ):
            per_sentence[feature.sentence].append(feature)
        return per_sentence

    dev_features = encode(
        dev_source.examples,
        model.tokenizer,
        label_space,
        hyperparameters.max_length,
        shapes=hyperparameters.word_shapes,
    )
    return Prepared(
        schedule=parsed,
        plan=plan,
        hyperparameters=hyperparameters,
        distilled=distilled_source,
        original=original_source,
        dev=dev_source,
        soft=soft_source,
        label_space=label_space,
        label_map=mapping,
        base_model=model,
        distilled_features=windows(distilled_source) + windows(soft_source),
        original_features=windows(original_source),
        dev_features=dev_features,
        warnings=warnings,
    )
