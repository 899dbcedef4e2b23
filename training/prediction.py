"""Word-level tags from a PyTorch token classifier: each word takes the label of its first sub-token."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from nerd.batches import inference_batches
from nerd.spans import repair_iob2
from nerd.training.batching import collate
from nerd.training.features import Feature
from nerd.training.label_space import LabelSpace


def predict_tags(
    model: Any,
    features: Sequence[Feature],
    sentence_lengths: Sequence[int],
    label_space: LabelSpace,
    *,
    batch_size: int,
    pad_id: int,
    device: Any,
) -> list[list[str]]:
    """IOB2 tags for every word of every sentence, windows stitched back together."""
    import torch

    labels = label_space.labels
    tags: list[list[str]] = [["O"] * length for length in sentence_lengths]
    was_training = model.training
    model.eval()
    with torch.inference_mode():
        for batch in inference_batches([len(f) for f in features], batch_size):
            chosen = [features[i] for i in batch]
            inputs = collate(chosen, pad_id)
            logits = model(
                input_ids=inputs["input_ids"].to(device), attention_mask=inputs["attention_mask"].to(device)
            ).logits
            best = logits.argmax(dim=-1).cpu().tolist()
            for feature, row in zip(chosen, best, strict=True):
                sentence = tags[feature.example]
                for offset, position in enumerate(feature.word_starts):
                    sentence[feature.first_word + offset] = labels[row[position]]
    model.train(was_training)
    return [repair_iob2(sentence) for sentence in tags]
