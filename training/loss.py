"""The loss of a batch: the model's own cross-entropy on hard labels, plus the soft labels' (``nerd
label``) distributions at a temperature where a batch has them."""

from __future__ import annotations

from typing import Any

from nerd.training.features import IGNORED


def batch_loss(model: Any, inputs: dict[str, Any], temperature: float) -> Any:
    """The batch's mean loss over its labelled words: cross-entropy to the hard labels, and to the soft
    labels' distributions (at ``temperature``, scaled by its square) where a batch has them."""
    import torch
    import torch.nn.functional as F

    targets = inputs.pop("soft_targets", None)
    mask = inputs.pop("soft_mask", None)
    if targets is None:
        return model(**inputs).loss  # hard labels only: the model's own loss, as for every run before
    labels = inputs.pop("labels")
    logits = model(**inputs).logits.float()
    hard = F.cross_entropy(
        logits.reshape(-1, logits.shape[-1]), labels.reshape(-1), ignore_index=IGNORED, reduction="sum"
    )
    student = F.log_softmax(logits[mask] / temperature, dim=-1)
    teacher = targets[mask]
    if temperature != 1.0:
        teacher = torch.softmax(torch.log(teacher.clamp_min(1e-12)) / temperature, dim=-1)
    soft = -(teacher * student).sum() * temperature**2
    count = (labels != IGNORED).sum() + mask.sum()
    return (hard + soft) / count.clamp_min(1)
