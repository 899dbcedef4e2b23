"""Option help taken from the settings objects' own field descriptions (``Hyperparameters``,
``ServiceSettings``), so that what an option means is written once, where the setting is."""

from __future__ import annotations

from pydantic import BaseModel


def described(model: type[BaseModel], field: str) -> str:
    """The description of ``model``'s ``field``, as an option's help.

    >>> from nerd.training.presets import Hyperparameters
    >>> described(Hyperparameters, "epochs")
    'Epochs (T of the schedule).'
    """
    description = model.model_fields[field].description
    if not description:
        raise KeyError(f"{model.__name__}.{field} has no description to show as help")
    return description
