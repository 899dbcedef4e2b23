"""Length-bucketed batches with dynamic padding: each batch is padded to its own longest window only.

Training batches come from shuffled pools of ``pool_batches`` batches, each pool sorted by length, so
a batch holds windows of similar length (little padding) while the epoch order stays random.
"""

from __future__ import annotations

import random
from collections.abc import Sequence
from typing import Any

from nerd.training.features import IGNORED, Feature


def training_batches(
    lengths: Sequence[int], batch_size: int, rng: random.Random, pool_batches: int = 50
) -> list[list[int]]:
    """Indices into ``lengths`` grouped into batches of similar length, in random order."""
    order = list(range(len(lengths)))
    rng.shuffle(order)
    pool = batch_size * pool_batches
    batches: list[list[int]] = []
    for start in range(0, len(order), pool):
        chunk = sorted(order[start : start + pool], key=lambda i: lengths[i])
        batches.extend(chunk[i : i + batch_size] for i in range(0, len(chunk), batch_size))
    rng.shuffle(batches)
    return batches


def shard(batches: list[list[int]], rank: int, world: int) -> list[list[int]]:
    """This process's share when ``world`` processes train together: every process gets the same number of
    batches (distributed training waits on each step), so the short ones repeat batches from the start."""
    if world <= 1 or not batches:
        return batches
    per_process = -(-len(batches) // world)
    padded = [batches[i % len(batches)] for i in range(per_process * world)]
    return padded[rank::world]


def collate(features: Sequence[Feature], pad_id: int) -> dict[str, Any]:
    """Tensors for one batch, padded to its longest window.

    A batch holding soft-labelled windows also gets ``soft_targets`` ``(batch, width, labels)`` and
    ``soft_mask`` ``(batch, width)``: the distributions to learn at each soft word start.
    """
    import torch

    width = max(len(f) for f in features)
    input_ids = torch.full((len(features), width), pad_id, dtype=torch.long)
    attention = torch.zeros((len(features), width), dtype=torch.long)
    labels = torch.full((len(features), width), IGNORED, dtype=torch.long)
    for row, feature in enumerate(features):
        size = len(feature)
        input_ids[row, :size] = torch.tensor(feature.input_ids)
        attention[row, :size] = 1
        labels[row, :size] = torch.tensor(feature.labels)
    batch = {"input_ids": input_ids, "attention_mask": attention, "labels": labels}
    if features[0].shape_ids is not None:
        token_types = torch.zeros((len(features), width), dtype=torch.long)
        for row, feature in enumerate(features):
            token_types[row, : len(feature)] = torch.tensor(feature.shape_ids)
        batch["token_type_ids"] = token_types
    soft = [(row, position, target) for row, f in enumerate(features) for position, target in f.soft]
    if soft:
        count = len(soft[0][2])
        targets = torch.zeros((len(features), width, count), dtype=torch.float32)
        mask = torch.zeros((len(features), width), dtype=torch.bool)
        rows = torch.tensor([row for row, _, _ in soft])
        positions = torch.tensor([position for _, position, _ in soft])
        targets[rows, positions] = torch.tensor([target for _, _, target in soft], dtype=torch.float32)
        mask[rows, positions] = True
        batch |= {"soft_targets": targets, "soft_mask": mask}
    return batch
