import pytest

pytest.importorskip("torch")
pytest.importorskip("optimum.exporters.onnx")


@pytest.fixture
def sample_file(tmp_path):
    from tests.conftest import conll_of, invented_sentences

    path = tmp_path / "verify.conll"
    path.write_text(conll_of(invented_sentences(30, 9, long_every=5)))
    return path
