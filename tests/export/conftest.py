import pytest

pytest.importorskip("torch")
pytest.importorskip("optimum.exporters.onnx")


@pytest.fixture(scope="session")
def trained_model(tmp_path_factory, tiny_encoder):
    """A tiny token classifier trained by nerd's own loop until it finds the invented names."""
    from tests.conftest import conll_of, invented_sentences
    from training.preparation import prepare
    from training.presets import Hyperparameters
    from training.trainer import RunOptions, train_run

    data = tmp_path_factory.mktemp("export-data")
    for name, count, seed in (("train", 60, 1), ("dev", 20, 3)):
        (data / f"{name}.conll").write_text(conll_of(invented_sentences(count, seed, long_every=7)))
    prepared = prepare(
        distilled=[],
        original=[data / "train.conll"],
        dev=data / "dev.conll",
        schedule="original",
        hyperparameters=Hyperparameters(epochs=8, learning_rate=3e-3, batch_size=8, max_length=32),
        base_model=tiny_encoder,
        label_map=None,
    )
    out = tmp_path_factory.mktemp("trained")
    result = train_run(prepared, RunOptions(seed=2, out_dir=out, device="cpu"))
    assert result.best_scores["micro"]["f1"] > 0.6
    return out


@pytest.fixture
def sample_file(tmp_path):
    from tests.conftest import conll_of, invented_sentences

    path = tmp_path / "verify.conll"
    path.write_text(conll_of(invented_sentences(30, 9, long_every=5)))
    return path
