"""One training run: a seed, a schedule over the two sources, dev scores after every epoch.

The loop is plain PyTorch driven by ``accelerate`` (device placement, mixed precision, and several GPUs
under ``accelerate launch`` or ``torchrun``), so the same code runs on a laptop CPU and a GPU node.
Each epoch trains on the schedule's share of each source, then scores the dev set; the best epoch's
weights are the run's model (a ``save_pretrained`` directory) and every epoch ends with a checkpoint.
"""

from __future__ import annotations

import hashlib
import json
import os
import random
import shutil
import tempfile
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerd.atomic import new_file_mode
from nerd.errors import InputError, NerdError
from nerd.scoring import entity_scores
from nerd.training.base_model import offline
from nerd.training.card import write_card
from nerd.training.card_content import build_card
from nerd.training.checkpoints import remove_checkpoint, restore_checkpoint, save_checkpoint
from nerd.training.devices import available_cores, resolve_device, resolve_precision
from nerd.training.features import IGNORED, Feature
from nerd.training.length_buckets import collate, shard, training_batches
from nerd.training.plots import plot_learning_curves, plot_schedule
from nerd.training.prediction import predict_tags
from nerd.training.preparation import Prepared
from nerd.training.schedules import epoch_indices


class TrainingInterrupted(NerdError):
    """Ctrl-C during training: the last finished epoch's checkpoint is intact and can be resumed."""


@dataclass(frozen=True)
class RunOptions:
    """How and where one seed runs."""

    seed: int
    out_dir: Path
    resume: bool = False
    device: str = "auto"  # auto, cpu or cuda
    threads: int | None = None
    keep_checkpoint: bool = False


class Observer:
    """Hooks for progress display; every method is optional."""

    def run_started(self, seed: int, start_epoch: int, epochs: int) -> None:
        """Called once, after a resume is resolved."""

    def epoch_started(self, epoch: int, epochs: int, batches: int) -> None:
        """Called before the first step of an epoch (``epoch`` is 1-based)."""

    def batch_done(self, loss: float) -> None:
        """Called after every optimizer step."""

    def evaluation_started(self, windows: int) -> None:
        """Called before the dev set is scored."""

    def epoch_done(self, record: dict[str, Any]) -> None:
        """Called with the epoch's history row."""


@dataclass
class RunResult:
    """What a finished run reports."""

    out_dir: Path
    history: list[dict[str, Any]]
    best_epoch: int
    best_scores: dict[str, Any]
    wall_seconds: float
    stopped_early: bool = False
    card: dict[str, Any] = field(default_factory=dict)

    @property
    def mean_epoch_seconds(self) -> float:
        trained = [row["train_seconds"] for row in self.history if row["batches"]]
        return sum(trained) / len(trained) if trained else 0.0


def fingerprint(prepared: Prepared, seed: int) -> str:
    """A digest of everything that decides the run's result, so a resume cannot mix two runs."""
    facts = {
        "files": {
            source.role: [f.sha256 for f in source.files]
            for source in (prepared.distilled, prepared.soft, prepared.original, prepared.dev)
            if source is not None
        },
        "schedule": str(prepared.schedule),
        "hyperparameters": prepared.hyperparameters.model_dump(),
        "labels": prepared.label_space.labels,
        "label_map": prepared.label_map,
        "base_model": str(prepared.base_model.path.resolve()),
        "seed": seed,
    }
    return hashlib.sha256(json.dumps(facts, sort_keys=True).encode()).hexdigest()


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
    if prepared.hyperparameters.freeze_embeddings:
        model.get_input_embeddings().weight.requires_grad_(False)
    if prepared.hyperparameters.dropout is not None:
        _set_dropout(model, prepared.hyperparameters.dropout)
    return model


def _set_dropout(model: Any, probability: float) -> None:
    """Set every dropout layer, whatever the architecture calls it in its config.

    Setting the modules rather than config keys (``hidden_dropout_prob``, ``attention_dropout``, ...)
    works for any encoder; the attention implementations read the probability from their module too.
    """
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = probability


def _save_best(model: Any, out_dir: Path) -> None:
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


def train_run(prepared: Prepared, options: RunOptions, observer: Observer | None = None) -> RunResult:
    """Train one seed into ``options.out_dir``; resumes from its checkpoint when asked.

    Raises:
        TrainingInterrupted: Ctrl-C; the directory holds the last finished epoch's checkpoint.
        ConfigError, InputError: a checkpoint that does not belong to this run, unloadable weights.
    """
    offline()
    import torch

    observer = observer or Observer()
    started = time.perf_counter()
    torch.set_num_threads(options.threads or available_cores())
    hyper = prepared.hyperparameters
    device = resolve_device(options.device)
    precision = resolve_precision(hyper.precision, device)
    out_dir = options.out_dir
    out_dir.mkdir(parents=True, exist_ok=True)
    accelerator = _accelerator(device, precision)
    digest = fingerprint(prepared, options.seed)

    torch.manual_seed(options.seed)
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
    history: list[dict[str, Any]] = []
    best_epoch, best_f1, start_epoch, elapsed_before = 0, -1.0, 0, 0.0
    if options.resume:
        progress = restore_checkpoint(out_dir, model, optimizer, digest)
        history = progress["history"]
        start_epoch = progress["epochs_done"]
        best_epoch, best_f1 = progress["best_epoch"], progress["best_f1"]
        elapsed_before = progress.get("wall_seconds", 0.0)
    elif accelerator.is_main_process:
        prepared.base_model.tokenizer.save_pretrained(out_dir)
    model, optimizer = accelerator.prepare(model, optimizer)
    plan = epoch_indices(
        prepared.plan, len(prepared.distilled_features), len(prepared.original_features), options.seed
    )
    pad_id = prepared.base_model.tokenizer.pad_token_id or 0
    dev_tags = [list(example.tags) for example in prepared.dev.examples]
    dev_lengths = [len(example.tokens) for example in prepared.dev.examples]
    epochs = hyper.epochs
    observer.run_started(options.seed, start_epoch, epochs)
    stopped_early = False

    def card(status: str) -> dict[str, Any]:
        wall = elapsed_before + time.perf_counter() - started
        built = build_card(
            prepared,
            options.seed,
            history,
            best_epoch,
            status,
            wall,
            device,
            precision,
            processes=accelerator.num_processes,
        )
        write_card(out_dir, built)
        return built

    try:
        for epoch in range(start_epoch, epochs):
            if hyper.patience is not None and history and epoch - best_epoch >= hyper.patience:
                stopped_early = True
                break
            learning_rate = hyper.learning_rate_at(epoch)
            for group in optimizer.param_groups:
                group["lr"] = learning_rate
            distilled, original = plan[epoch]
            windows = _epoch_windows(prepared, distilled, original)
            # Seeds derived from (seed, epoch) make a resumed run take the same batches and dropout masks.
            batches = training_batches(
                [len(w) for w in windows], hyper.batch_size, random.Random(f"{options.seed}/{epoch}")
            )
            batches = shard(batches, accelerator.process_index, accelerator.num_processes)
            torch.manual_seed(options.seed * 100_003 + epoch)
            observer.epoch_started(epoch + 1, epochs, len(batches))
            model.train()
            tick = time.perf_counter()
            losses: list[float] = []
            for batch in batches:
                inputs = {
                    k: v.to(accelerator.device)
                    for k, v in collate([windows[i] for i in batch], pad_id).items()
                }
                loss = _loss(model, inputs, hyper.soft_temperature)
                accelerator.backward(loss)
                accelerator.clip_grad_norm_(model.parameters(), hyper.max_grad_norm)
                optimizer.step()
                optimizer.zero_grad(set_to_none=True)
                losses.append(float(loss.detach()))
                observer.batch_done(losses[-1])
            train_seconds = time.perf_counter() - tick

            scores = None
            tick = time.perf_counter()
            bare = accelerator.unwrap_model(model)
            if hyper.epoch_selection == "best" or epoch == epochs - 1:
                observer.evaluation_started(len(prepared.dev_features))
                if scorer is not None:
                    scorer.load_state_dict(bare.state_dict())
                with accelerator.autocast():
                    predicted = predict_tags(
                        scorer or bare,
                        prepared.dev_features,
                        dev_lengths,
                        prepared.label_space,
                        batch_size=hyper.eval_batch_size,
                        pad_id=pad_id,
                        device=accelerator.device,
                    )
                scores = entity_scores(dev_tags, predicted)
            record = {
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
            history.append(record)
            # Every process scores the same weights, so all agree on the best epoch; one writes.
            if scores is not None and scores["micro"]["f1"] > best_f1:
                best_epoch, best_f1 = epoch + 1, scores["micro"]["f1"]
                if accelerator.is_main_process:
                    _save_best(bare, out_dir)
            if accelerator.is_main_process:
                save_checkpoint(
                    out_dir,
                    bare,
                    optimizer,
                    {
                        "fingerprint": digest,
                        "epochs_done": epoch + 1,
                        "best_epoch": best_epoch,
                        "best_f1": best_f1,
                        "history": history,
                        "wall_seconds": elapsed_before + time.perf_counter() - started,
                    },
                )
            accelerator.wait_for_everyone()
            observer.epoch_done(record)
    except KeyboardInterrupt:
        if accelerator.is_main_process:
            card("interrupted")
        done = len(history)
        raise TrainingInterrupted(
            f"interrupted during epoch {done + 1}; {out_dir} holds the checkpoint of epoch {done}: "
            "run the same command with --resume to continue"
            if done
            else f"interrupted during the first epoch; nothing to resume in {out_dir}"
        ) from None

    result_card: dict[str, Any] = {}
    if accelerator.is_main_process:
        result_card = card("early-stopped" if stopped_early else "complete")
        plot_schedule(prepared.plan, str(prepared.schedule), out_dir / "schedule.png")
        plot_learning_curves(history, out_dir / "learning_curves.png")
        if not options.keep_checkpoint:
            remove_checkpoint(out_dir)
    best = next(row for row in history if row["epoch"] == best_epoch)
    return RunResult(
        out_dir=out_dir,
        history=history,
        best_epoch=best_epoch,
        best_scores=best["dev"],
        wall_seconds=elapsed_before + time.perf_counter() - started,
        stopped_early=stopped_early,
        card=result_card,
    )
