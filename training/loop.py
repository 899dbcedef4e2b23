"""The training loop as a generator, after spaCy's ``train_while_improving``: it trains one epoch at a
time and yields what happened (the epoch's history row and whether it is the best so far); the driver
(:func:`nerd.training.trainer.train_run`) decides what to save, show and write.

The loop is plain PyTorch driven by ``accelerate`` (device placement, mixed precision, and several GPUs
under ``accelerate launch`` or ``torchrun``), so the same code runs on a laptop CPU and a GPU node.
"""

from __future__ import annotations

import os
import random
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

from nerd.atomic import new_file_mode
from nerd.errors import ConfigError, InputError
from nerd.scoring import entity_scores
from nerd.training.checkpoints import restore_checkpoint
from nerd.training.devices import available_cores, resolve_device, resolve_precision
from nerd.training.features import IGNORED, Feature
from nerd.training.length_buckets import collate, shard, training_batches
from nerd.training.prediction import predict_tags
from nerd.training.preparation import Prepared
from nerd.training.records import EpochRecord
from nerd.training.schedules import epoch_indices
from nerd.word_shapes import SHAPE_NAMES, lowered


class LoopObserver:
    """Hooks for progress display inside an epoch; every method is optional."""

    def epoch_started(self, epoch: int, epochs: int, batches: int) -> None:
        """Called before the first step of an epoch (``epoch`` is 1-based)."""

    def batch_done(self, loss: float) -> None:
        """Called after every optimizer step."""

    def evaluation_started(self, windows: int) -> None:
        """Called before the dev set is scored."""


@dataclass
class TrainingState:
    """What the loop trains and where it stands; the driver reads it to save and report."""

    model: Any
    scorer: Any  # an SDPA twin that scores dev (bf16 on CPU), or None
    optimizer: Any
    accelerator: Any
    device: str
    precision: str
    pad_id: int
    history: list[EpochRecord] = field(default_factory=list)
    best_epoch: int = 0
    best_f1: float = -1.0
    start_epoch: int = 0
    elapsed_before: float = 0.0  # wall seconds of the run before a resume
    stopped_early: bool = False

    @property
    def bare_model(self) -> Any:
        return self.accelerator.unwrap_model(self.model)


@dataclass(frozen=True)
class EpochStep:
    """One finished epoch: its history row, and whether its dev score is the best so far."""

    record: EpochRecord
    is_best: bool


def set_up(
    prepared: Prepared,
    seed: int,
    device_name: str,
    threads: int | None,
    resume_from: Path | None,
    fingerprint: str,
) -> TrainingState:
    """Device, precision, the model (and its scoring twin), the optimizer, and a resumed run's progress.

    Raises:
        ConfigError, InputError: a checkpoint that does not belong to this run, unloadable weights.
    """
    import torch

    torch.set_num_threads(threads or available_cores())
    hyper = prepared.hyperparameters
    device = resolve_device(device_name)
    precision = resolve_precision(hyper.precision, device)
    accelerator = _accelerator(device, precision)
    torch.manual_seed(seed)
    # Measured on a 2-core Sapphire Rapids: under bf16 autocast the SDPA attention backward is several
    # times slower than the eager one, while SDPA's forward is twice as fast; so on CPU the model trains
    # with eager attention and a twin with SDPA scores the dev set (same weights, copied each epoch).
    # Only where the architecture has an SDPA attention at all (MPNet, for one, has none).
    split_attention = device == "cpu" and precision == "bf16" and _supports_sdpa(prepared)
    model = _load_model(prepared, "eager" if split_attention else None)
    scorer = _load_model(prepared, "sdpa") if split_attention else None
    # The fused AdamW kernel updates all tensors in one pass: a third of the optimizer time on CPU.
    optimizer = torch.optim.AdamW(
        [p for p in model.parameters() if p.requires_grad],
        lr=hyper.learning_rate,
        weight_decay=hyper.weight_decay,
        fused=True,
    )
    pad_id = prepared.base_model.tokenizer.pad_token_id or 0
    state = TrainingState(model, scorer, optimizer, accelerator, device, precision, pad_id)
    if resume_from is not None:
        progress = restore_checkpoint(resume_from, model, optimizer, fingerprint)
        state.history = progress["history"]
        state.start_epoch = progress["epochs_done"]
        state.best_epoch, state.best_f1 = progress["best_epoch"], progress["best_f1"]
        state.elapsed_before = progress.get("wall_seconds", 0.0)
    state.model, state.optimizer = accelerator.prepare(model, optimizer)
    return state


def train_while_improving(
    prepared: Prepared, seed: int, state: TrainingState, observer: LoopObserver
) -> Iterator[EpochStep]:
    """Train epoch after epoch from ``state.start_epoch``, yielding each finished epoch; stops at the
    schedule's last epoch, or early (``state.stopped_early``) when dev has not improved for
    ``patience`` epochs."""
    import torch

    hyper = prepared.hyperparameters
    accelerator = state.accelerator
    plan = epoch_indices(
        prepared.plan, len(prepared.distilled_features), len(prepared.original_features), seed
    )
    dev_tags = [list(example.tags) for example in prepared.dev.examples]
    dev_lengths = [len(example.tokens) for example in prepared.dev.examples]
    epochs = hyper.epochs
    for epoch in range(state.start_epoch, epochs):
        if hyper.patience is not None and state.history and epoch - state.best_epoch >= hyper.patience:
            state.stopped_early = True
            return
        learning_rate = hyper.learning_rate_at(epoch)
        for group in state.optimizer.param_groups:
            group["lr"] = learning_rate
        distilled, original = plan[epoch]
        windows = _epoch_windows(prepared, distilled, original)
        # Seeds derived from (seed, epoch) make a resumed run take the same batches and dropout masks.
        batches = training_batches(
            [len(w) for w in windows], hyper.batch_size, random.Random(f"{seed}/{epoch}")
        )
        batches = shard(batches, accelerator.process_index, accelerator.num_processes)
        torch.manual_seed(seed * 100_003 + epoch)
        observer.epoch_started(epoch + 1, epochs, len(batches))
        state.model.train()
        tick = time.perf_counter()
        losses: list[float] = []
        hidden_case = random.Random(f"{seed}/{epoch}/case")
        for batch in batches:
            chosen = [windows[i] for i in batch]
            if hyper.case_dropout:
                hide = [hidden_case.random() < hyper.case_dropout for _ in chosen]
                chosen = [_case_dropped(w) if hidden else w for w, hidden in zip(chosen, hide, strict=True)]
            inputs = {k: v.to(accelerator.device) for k, v in collate(chosen, state.pad_id).items()}
            loss = _loss(state.model, inputs, hyper.soft_temperature)
            accelerator.backward(loss)
            accelerator.clip_grad_norm_(state.model.parameters(), hyper.max_grad_norm)
            state.optimizer.step()
            state.optimizer.zero_grad(set_to_none=True)
            losses.append(float(loss.detach()))
            observer.batch_done(losses[-1])
        train_seconds = time.perf_counter() - tick

        scores = None
        tick = time.perf_counter()
        if hyper.epoch_selection == "best" or epoch == epochs - 1:
            observer.evaluation_started(len(prepared.dev_features))
            scores = entity_scores(dev_tags, _score_dev(prepared, state, dev_lengths))
        record: EpochRecord = {
            "epoch": epoch + 1,
            "w0": round(prepared.plan[epoch][0], 6),
            "w1": round(prepared.plan[epoch][1], 6),
            "distilled_sentences": len(distilled),
            "original_sentences": len(original),
            "windows": len(windows),
            "batches": len(batches),
            "learning_rate": learning_rate,
            "loss": round(sum(losses) / len(losses), 6) if losses else None,
            "train_seconds": round(train_seconds, 3),
            "eval_seconds": round(time.perf_counter() - tick, 3),
            "dev": scores,
        }
        state.history.append(record)
        # Every process scores the same weights, so all agree on the best epoch.
        is_best = scores is not None and scores["micro"]["f1"] > state.best_f1
        if is_best:
            state.best_epoch, state.best_f1 = epoch + 1, scores["micro"]["f1"]
        yield EpochStep(record, is_best)


def _score_dev(prepared: Prepared, state: TrainingState, dev_lengths: list[int]) -> list[list[str]]:
    bare = state.bare_model
    if state.scorer is not None:
        state.scorer.load_state_dict(bare.state_dict())
    with state.accelerator.autocast():
        return predict_tags(
            state.scorer or bare,
            prepared.dev_features,
            dev_lengths,
            prepared.label_space,
            batch_size=prepared.hyperparameters.eval_batch_size,
            pad_id=state.pad_id,
            device=state.accelerator.device,
        )


def save_best(model: Any, out_dir: Path) -> None:
    """Swap the best weights (and config) into the run directory, file by file with atomic renames."""
    staging = Path(tempfile.mkdtemp(prefix=".best-", dir=out_dir))
    try:
        model.save_pretrained(staging, safe_serialization=True)
        for written in staging.iterdir():
            # safetensors writes its file 0600; the weights are as readable as the run's other files.
            os.chmod(written, new_file_mode())
            os.replace(written, out_dir / written.name)
    finally:
        shutil.rmtree(staging, ignore_errors=True)


def _accelerator(device: str, precision: str) -> Any:
    from accelerate import Accelerator
    from accelerate.state import AcceleratorState

    # accelerate keeps one state per process and refuses a second Accelerator with another precision;
    # runs in one process (a grid, the test suite) may differ, and this loop holds no state across runs.
    AcceleratorState._reset_state()
    return Accelerator(cpu=device == "cpu", mixed_precision=None if precision == "fp32" else precision)


def _supports_sdpa(prepared: Prepared) -> bool:
    """Whether the encoder's token-classification class can run torch's scaled-dot-product attention."""
    from transformers import AutoConfig, AutoModelForTokenClassification

    config = AutoConfig.from_pretrained(prepared.base_model.path, local_files_only=True)
    model_class = AutoModelForTokenClassification._model_mapping.get(type(config), None)
    return bool(getattr(model_class, "_supports_sdpa", False))


def _load_model(prepared: Prepared, attention: str | None = None) -> Any:
    from transformers import AutoModelForTokenClassification
    from transformers.utils import logging

    # "Some weights ... newly initialized" is the point of fine-tuning, not news worth a warning.
    logging.set_verbosity_error()

    space = prepared.label_space
    implementation = {"attn_implementation": attention} if attention else {}
    try:
        model = AutoModelForTokenClassification.from_pretrained(
            prepared.base_model.path,
            num_labels=len(space.labels),
            id2label=space.id2label,
            label2id=space.label2id,
            local_files_only=True,
            **implementation,
        )
    except (OSError, ValueError, RuntimeError) as error:
        raise InputError(f"cannot load the encoder weights: {error}", path=prepared.base_model.path) from None
    if prepared.hyperparameters.word_shapes and getattr(model.config, "word_shapes", None) is None:
        _add_word_shape_rows(model)
    if prepared.hyperparameters.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if prepared.hyperparameters.dropout is not None:
        _set_dropout(model, prepared.hyperparameters.dropout)
    return model


def _add_word_shape_rows(model: Any) -> None:
    """One token-type row per word shape, each a copy of the pretrained first row, so that training
    starts from the encoder as it was (every word reads as before) and learns what capitals add."""
    import torch

    embeddings = getattr(getattr(model.base_model, "embeddings", None), "token_type_embeddings", None)
    if not isinstance(embeddings, torch.nn.Embedding):
        raise ConfigError(f"--word-shapes: {type(model).__name__} has no token-type embeddings to carry them")
    rows = torch.nn.Embedding(len(SHAPE_NAMES), embeddings.embedding_dim)
    with torch.no_grad():
        rows.weight.copy_(embeddings.weight[0].expand(len(SHAPE_NAMES), -1))
    model.base_model.embeddings.token_type_embeddings = rows
    # BERT keeps an all-zero token-type buffer as the default input; a shape-reading model always gets
    # its types, and the buffer's size does not depend on the table's.
    model.config.type_vocab_size = len(SHAPE_NAMES)
    model.config.word_shapes = list(SHAPE_NAMES)  # saved in config.json: the export and taggers read it


def _case_dropped(window: Feature) -> Feature:
    """The window as its words would read lower-cased: only the shapes change (the tokenizer is uncased)."""
    return replace(window, shape_ids=lowered(window.shape_ids or []))


def _set_dropout(model: Any, probability: float) -> None:
    """Set every dropout layer, whatever the architecture calls it in its config.

    Setting the modules rather than config keys (``hidden_dropout_prob``, ``attention_dropout``, ...)
    works for any encoder; the attention implementations read the probability from their module too.
    """
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = probability


def _loss(model: Any, inputs: dict[str, Any], temperature: float) -> Any:
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


def _epoch_windows(prepared: Prepared, distilled: list[int], original: list[int]) -> list[Feature]:
    windows = [w for i in distilled for w in prepared.distilled_features[i]]
    windows.extend(w for i in original for w in prepared.original_features[i])
    return windows
