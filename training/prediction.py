"""Word-level tags from a PyTorch token classifier in training (dev scoring), through the one stitching
and decoding path every tagger uses (:mod:`nerd.word_scores`): each word is scored on its first
sub-token."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nerd.decoding import DEFAULT_DECODING, Decoding
from nerd.training.features import Feature
from nerd.training.label_space import LabelSpace
from nerd.training.length_buckets import collate
from nerd.word_scores import tag_windows


def predict_tags(
    model: Any,
    features: Sequence[Feature],
    sentence_lengths: Sequence[int],
    label_space: LabelSpace,
    *,
    batch_size: int,
    pad_id: int,
    device: Any,
    decoding: Decoding = DEFAULT_DECODING,
) -> list[list[str]]:
    """IOB2 tags for every word of every sentence, windows stitched back together and decoded."""
    import numpy as np
    import torch

    def logits(chosen: Sequence[Feature]) -> np.ndarray:
        inputs = collate(chosen, pad_id)
        inputs.pop("labels")
        output = model(**{name: values.to(device) for name, values in inputs.items()}).logits
        return output.float().cpu().numpy()

    was_training = model.training
    model.eval()
    try:
        with torch.inference_mode():
            return tag_windows(
                features, sentence_lengths, label_space.labels, logits, batch_size, decoding=decoding
            )
    finally:
        model.train(was_training)
