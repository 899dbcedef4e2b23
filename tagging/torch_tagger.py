"""The PyTorch tagger: a training checkpoint read through the same windows and decoder as a bundle.

``TorchReference`` is the checkpoint in PyTorch, fp32 on the CPU (export's verification compares every
variant with it); ``TorchTagger`` tags words with it, as :class:`nerd.tagging.onnx_tagger.OnnxTagger`
does with a bundle.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from pathlib import Path

import numpy as np

from nerd.tagging.checkpoint import Checkpoint, load_checkpoint
from nerd.tagging.encoding import Window, WordEncoder, model_inputs, pad_token_id
from nerd.tagging.window_tagger import WindowTagger


class TorchReference:
    """The trained checkpoint in PyTorch, fp32 on the CPU: what every variant is compared with."""

    def __init__(self, checkpoint: Checkpoint, threads: int) -> None:
        import torch
        from transformers import AutoModelForTokenClassification
        from transformers.utils import logging

        logging.set_verbosity_error()
        torch.set_num_threads(threads)
        self.model = AutoModelForTokenClassification.from_pretrained(
            checkpoint.path, local_files_only=True, dtype=torch.float32
        ).eval()
        # Token types only for a model that reads word shapes in them: some encoders (MPNet) take none.
        self.input_names = {"input_ids", "attention_mask"}
        if checkpoint.word_shapes:
            self.input_names.add("token_type_ids")

    def logits(self, windows: Sequence[Window], pad_id: int) -> np.ndarray:
        import torch

        feed = model_inputs(windows, pad_id, self.input_names)
        with torch.inference_mode():
            inputs = {name: torch.from_numpy(values) for name, values in feed.items()}
            return self.model(**inputs).logits.float().numpy()


class TorchTagger(WindowTagger):
    """A training checkpoint tagging words in PyTorch, through the serving engine's windows and decoder.

    The PyTorch counterpart of :class:`nerd.tagging.onnx_tagger.OnnxTagger`, for ``nerd evaluate``,
    ``nerd label`` and ``nerd bench``.
    """

    def __init__(self, checkpoint_dir: Path, threads: int) -> None:
        self.checkpoint = load_checkpoint(checkpoint_dir)
        self.labels = self.checkpoint.labels
        self.reference = TorchReference(self.checkpoint, threads)
        self.encoder = WordEncoder(
            checkpoint_dir / "tokenizer.json", self.checkpoint.max_length, shapes=self.checkpoint.word_shapes
        )
        self.pad_id = pad_token_id(checkpoint_dir / "config.json", self.encoder)
        self.model_seconds = 0.0  # time inside the PyTorch forward, summed over calls

    def logits(self, windows: Sequence[Window]) -> np.ndarray:
        tick = time.perf_counter()
        scores = self.reference.logits(windows, self.pad_id)
        self.model_seconds += time.perf_counter() - tick
        return scores
