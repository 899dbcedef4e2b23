"""Every encoder family the README names trains under every preset and precision (tiny random configs)."""

import shutil

import pytest

from nerd.training.preparation import prepare
from nerd.training.presets import PRESETS
from nerd.training.trainer import RunOptions, train_run

transformers = pytest.importorskip("transformers")

SIZE = {"hidden_size": 32, "num_hidden_layers": 2, "num_attention_heads": 2, "intermediate_size": 64}
CONFIGS = {
    "bert": lambda vocab: transformers.BertConfig(vocab_size=vocab, max_position_embeddings=64, **SIZE),
    "roberta": lambda vocab: transformers.RobertaConfig(
        vocab_size=vocab, max_position_embeddings=72, pad_token_id=0, **SIZE
    ),
    "mpnet": lambda vocab: transformers.MPNetConfig(
        vocab_size=vocab, max_position_embeddings=72, pad_token_id=0, **SIZE
    ),
    "deberta-v2": lambda vocab: transformers.DebertaV2Config(
        vocab_size=vocab, max_position_embeddings=64, pad_token_id=0, **SIZE
    ),
    "distilbert": lambda vocab: transformers.DistilBertConfig(
        vocab_size=vocab,
        max_position_embeddings=64,
        dim=32,
        n_layers=2,
        n_heads=2,
        hidden_dim=64,
        pad_token_id=0,
    ),
    "electra": lambda vocab: transformers.ElectraConfig(
        vocab_size=vocab, embedding_size=32, max_position_embeddings=64, **SIZE
    ),
}


@pytest.fixture(scope="module", params=sorted(CONFIGS))
def encoder(request, tiny_encoder, tmp_path_factory):
    """A save_pretrained directory of the family's base model, with the tiny BERT's fast tokenizer."""
    family = request.param
    directory = tmp_path_factory.mktemp(f"tiny-{family}")
    for name in ("vocab.txt", "tokenizer.json", "tokenizer_config.json", "special_tokens_map.json"):
        shutil.copy(tiny_encoder / name, directory / name)
    vocab = len((tiny_encoder / "vocab.txt").read_text().split())
    transformers.AutoModel.from_config(CONFIGS[family](vocab)).save_pretrained(directory)
    return family, directory


@pytest.mark.parametrize("preset", sorted(PRESETS))
@pytest.mark.parametrize("precision", ["fp32", "bf16"])
def test_each_family_trains_under_each_preset_and_precision(encoder, corpus, tmp_path, preset, precision):
    family, directory = encoder
    hyper = PRESETS[preset].model_copy(
        update={"epochs": 1, "batch_size": 8, "max_length": 32, "precision": precision}
    )
    data = prepare(
        distilled=[],
        original=[corpus["original"]],
        dev=corpus["dev"],
        schedule="original",
        hyperparameters=hyper,
        base_model=directory,
        label_map=None,
    )
    result = train_run(data, RunOptions(seed=1, out_dir=tmp_path / "run", device="cpu"))
    assert (tmp_path / "run" / "model.safetensors").is_file(), family
    assert 0.0 <= result.best_scores["micro"]["f1"] <= 1.0
