import pytest

from nerd.conll import read_conll
from nerd.errors import InputError
from nerd.experiments.probe_split import main, probe_split, read_ids
from tests.conftest import conll_of, invented_sentences


def test_the_probe_leaves_out_excluded_sentences_and_keeps_file_order(tmp_path):
    sentences = invented_sentences(50, seed=4)
    source = tmp_path / "train.conll"
    source.write_text(conll_of(sentences))
    gold = tmp_path / "gold.conll"
    gold.write_text(conll_of(sentences[:10]))
    ids = tmp_path / "ids.txt"
    ids.write_text("10\n11 12\n")

    probe = probe_split(source, 20, 1, exclude=[gold], exclude_ids=read_ids(ids))

    tokens = [tuple(tokens) for tokens, _ in sentences]
    chosen = [tokens.index(sentence.tokens) for sentence in probe]
    assert len(probe) == 20 and chosen == sorted(chosen)
    assert not set(chosen) & set(range(13))
    assert probe == probe_split(source, 20, 1, exclude=[gold], exclude_ids=read_ids(ids))


def test_the_command_writes_the_probe(tmp_path):
    source = tmp_path / "train.conll"
    source.write_text(conll_of(invented_sentences(30, seed=5)))
    with pytest.raises(SystemExit) as done:
        main([str(source), "--size", "7", "--out", str(tmp_path / "probe.conll")])
    assert done.value.code == 0
    assert len(read_conll(tmp_path / "probe.conll").sentences) == 7


def test_a_bad_index_file_names_the_line(tmp_path):
    ids = tmp_path / "ids.txt"
    ids.write_text("1 2\nthree\n")
    with pytest.raises(InputError, match=r"ids\.txt:2: .three. is not"):
        read_ids(ids)
