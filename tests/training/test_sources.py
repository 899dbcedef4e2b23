import pytest

from nerd.errors import ConllFormatError, InputError
from nerd.records import TrainingRecord
from nerd.training.sources import load_source


def test_distilled_jsonl_and_conll_read_the_same(tmp_path):
    record = TrainingRecord(id="a", tokens=["Alma", "went"], tags=["B-PER", "O"])
    jsonl = tmp_path / "data.jsonl"
    jsonl.write_text(record.to_json_line() + "\n")
    conll = tmp_path / "data.conll"
    conll.write_text("Alma B-PER\nwent O\n\n")
    assert load_source("distilled", [jsonl]).examples == load_source("distilled", [conll]).examples
    source = load_source("distilled", [jsonl, conll])
    assert len(source) == 2 and [f.sentences for f in source.files] == [1, 1]
    assert len(source.files[0].sha256) == 64


def test_an_empty_file_is_an_error_naming_it(tmp_path):
    empty = tmp_path / "empty.conll"
    empty.write_text("\n")
    with pytest.raises(InputError, match=r"empty.conll: original file has no sentences"):
        load_source("original", [empty])


def test_a_missing_file_is_an_error(tmp_path):
    with pytest.raises(InputError, match="not found"):
        load_source("dev", [tmp_path / "nope.conll"])


def test_a_malformed_conll_line_names_the_line(tmp_path):
    bad = tmp_path / "bad.conll"
    bad.write_text("Alma B-PER\nwent X-Y\n\n")
    with pytest.raises(ConllFormatError, match=r"bad.conll:2"):
        load_source("original", [bad])


def test_a_malformed_record_names_the_line_and_field(tmp_path):
    bad = tmp_path / "data.jsonl"
    bad.write_text('{"id": "a", "tokens": ["x"], "tags": ["O"]}\n{"id": "b", "tokens": [], "tags": []}\n')
    with pytest.raises(InputError, match=r"data.jsonl:2 \[tokens\]"):
        load_source("distilled", [bad])
