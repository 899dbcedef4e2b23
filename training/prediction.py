"""Word-level tags from a PyTorch token classifier: each word is scored on its first sub-token."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nerd.decoding import DEFAULT_DECODING, Decoding, decode, log_softmax
from nerd.inference_batches import inference_batches
from nerd.training.features import Feature
from nerd.training.label_space import LabelSpace
from nerd.training.length_buckets import collate


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

    labels = label_space.labels
    scores = [np.zeros((length, len(labels)), dtype=np.float32) for length in sentence_lengths]
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for batch in inference_batches([len(f) for f in features], batch_size):
            chosen = [features[i] for i in batch]
            inputs = collate(chosen, pad_id)
            logits = model(
                input_ids=inputs["input_ids"].to(device), attention_mask=inputs["attention_mask"].to(device)
            ).logits
            rows = logits.float().cpu().numpy()
            for feature, row in zip(chosen, rows, strict=True):
                sentence = scores[feature.example]
                for offset, position in enumerate(feature.word_starts):
                    sentence[feature.first_word + offset] = row[position]
    model.train(was_training)
    return decode([log_softmax(sentence) for sentence in scores], labels, decoding)
