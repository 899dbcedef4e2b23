"""What a run trains, set up once: the device and precision, the model (with its word-shape rows,
frozen embeddings and dropout as asked), the scoring twin, the optimizer, and a resumed run's progress
read from its checkpoint."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerd.errors import ConfigError, InputError
from nerd.training.checkpoints import restore_checkpoint
from nerd.training.devices import available_cores, resolve_device, resolve_precision
from nerd.training.preparation import Prepared
from nerd.training.records import EpochRecord
from nerd.word_shapes import SHAPE_NAMES


@dataclass
class TrainingState:
    """What the loop trains; the driver reads it to save and report."""

    model: Any
    scorer: Any  # an SDPA twin that scores dev (bf16 on CPU), or None
    optimizer: Any
    accelerator: Any
    device: str
    precision: str
    pad_id: int

    @property
    def bare_model(self) -> Any:
        return self.accelerator.unwrap_model(self.model)


@dataclass(frozen=True)
class Resumed:
    """Where a resumed run stood at its last checkpoint (all zero for a new run)."""

    history: list[EpochRecord] = field(default_factory=list)
    start_epoch: int = 0
    best_epoch: int = 0
    best_f1: float = -1.0
    elapsed_before: float = 0.0  # wall seconds of the run before the resume


def set_up(
    prepared: Prepared,
    seed: int,
    device_name: str,
    threads: int | None,
    resume_from: Path | None,
    fingerprint: str,
) -> tuple[TrainingState, Resumed]:
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
    resumed = Resumed()
    if resume_from is not None:
        progress = restore_checkpoint(resume_from, model, optimizer, fingerprint)
        resumed = Resumed(
            history=list(progress["history"]),
            start_epoch=progress["epochs_done"],
            best_epoch=progress["best_epoch"],
            best_f1=progress["best_f1"],
            elapsed_before=progress.get("wall_seconds", 0.0),
        )
    model, optimizer = accelerator.prepare(model, optimizer)
    return TrainingState(model, scorer, optimizer, accelerator, device, precision, pad_id), resumed


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


def _set_dropout(model: Any, probability: float) -> None:
    """Set every dropout layer, whatever the architecture calls it in its config.

    Setting the modules rather than config keys (``hidden_dropout_prob``, ``attention_dropout``, ...)
    works for any encoder; the attention implementations read the probability from their module too.
    """
    import torch

    for module in model.modules():
        if isinstance(module, torch.nn.Dropout):
            module.p = probability
