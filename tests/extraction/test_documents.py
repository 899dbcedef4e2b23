"""Every record of every input file ends as a document or a reject that says where and why."""

import gzip
import json

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from nerd.errors import InputError
from nerd.extraction.documents import (
    Document,
    Fields,
    Rejected,
    RejectReason,
    input_files,
    read_items,
)


def items(path, fields=None, skip=0):
    return [item for _, item in read_items(path, fields or Fields(), skip)]


def test_jsonl_lines_are_documents_with_their_ids_or_file_and_line(tmp_path):
    path = tmp_path / "mail.jsonl"
    lines = [
        {"text": "Alma met Borel.", "key": "m1"},
        {"text": "No id here."},
        {"body": "no text field"},
        {"text": ""},
        {"text": 7},
        [1, 2],
    ]
    path.write_text("\n".join(json.dumps(line) for line in lines) + "\n{broken\n\xff\n", encoding="latin-1")
    found = items(path, Fields(id="key"))
    assert found[0] == Document("m1", "Alma met Borel.", f"{path}:1")
    assert found[1] == Document(f"{path}:2", "No id here.", f"{path}:2")
    reasons = [item.reason for item in found[2:]]
    assert reasons == [
        RejectReason.NO_TEXT_FIELD,
        RejectReason.EMPTY,
        RejectReason.NOT_TEXT,
        RejectReason.NOT_TEXT,
        RejectReason.BROKEN_JSON_LINE,
        RejectReason.INVALID_UTF8,
    ]
    assert found[-1].source == f"{path}:8"


def test_a_text_over_the_cap_and_one_with_nul_characters_are_rejected(tmp_path):
    path = tmp_path / "a.jsonl"
    path.write_text(json.dumps({"text": "x" * 11}) + "\n" + json.dumps({"text": "a\x00b"}) + "\n")
    over, binary = items(path, Fields(max_chars=10))
    assert over.reason is RejectReason.OVER_SIZE_CAP and "over the cap of 10" in over.detail
    assert binary.reason is RejectReason.NOT_TEXT


def test_gzip_is_read_transparently_and_a_truncated_one_is_rejected_after_what_it_holds(tmp_path):
    whole = gzip.compress(
        b"".join(json.dumps({"text": f"Line {n} of Quenby."}).encode() + b"\n" for n in range(2000))
    )
    good, cut = tmp_path / "good.jsonl.gz", tmp_path / "cut.jsonl.gz"
    good.write_bytes(whole)
    cut.write_bytes(whole[: len(whole) // 2])
    assert len(items(good)) == 2000 and all(isinstance(item, Document) for item in items(good))
    found = items(cut)
    assert all(isinstance(item, Document) for item in found[:-1]) and len(found) > 1
    assert found[-1].reason is RejectReason.UNREADABLE_FILE
    assert found[-1].source.startswith(f"{cut}:") and "read up to here" in found[-1].source


def test_text_files_csv_and_conll(tmp_path):
    (tmp_path / "letter.txt").write_text("\ufeffDear Alma,\nBorel writes from Quenby.\n")
    (tmp_path / "bad.txt").write_bytes(b"caf\xe9")
    rows = tmp_path / "rows.csv"
    rows.write_text('id,body\nr1,"Alma met\nBorel"\nr2,\n')
    conll = tmp_path / "s.conll"
    conll.write_text("-DOCSTART- O\n\nAlma B-PER\nmet O\n\nQuenby B-LOC\n")
    (letter,) = items(tmp_path / "letter.txt")
    assert letter.text == "Dear Alma,\nBorel writes from Quenby.\n" and letter.id == str(
        tmp_path / "letter.txt"
    )
    assert items(tmp_path / "bad.txt")[0].reason is RejectReason.INVALID_UTF8
    first, second = items(rows, Fields(text="body", id="id"))
    assert first == Document("r1", "Alma met\nBorel", f"{rows}:3")
    assert second.reason is RejectReason.EMPTY and second.id == "r2"
    assert [item.text for item in items(conll)] == ["Alma met", "Quenby"]
    assert items(conll)[1].source == f"{conll}:6"


def test_parquet_rows_and_a_corrupt_file(tmp_path):
    pa = pytest.importorskip("pyarrow")
    import pyarrow.parquet as parquet

    path = tmp_path / "t.parquet"
    parquet.write_table(pa.table({"text": ["Alma in Quenby.", None, "Borel."], "n": [1, 2, 3]}), path)
    found = items(path, Fields(id="n"))
    assert [item.id for item in found] == ["1", "2", "3"]
    assert found[1].reason is RejectReason.NOT_TEXT and found[1].source == f"{path} row 1"
    broken = tmp_path / "broken.parquet"
    broken.write_bytes(path.read_bytes()[:-20])
    (reject,) = items(broken)
    assert reject.reason is RejectReason.UNREADABLE_FILE and reject.source.startswith(str(broken))


def test_a_file_of_another_kind_is_a_reject_not_a_silence(tmp_path):
    (tmp_path / "notes.docx").write_bytes(b"PK\x03\x04")
    (reject,) = items(tmp_path / "notes.docx")
    assert reject.reason is RejectReason.UNKNOWN_FORMAT


def test_inputs_are_files_folders_and_globs_each_file_once(tmp_path):
    for name in ("b/2.txt", "b/1.txt", "c.jsonl"):
        (tmp_path / name).parent.mkdir(exist_ok=True)
        (tmp_path / name).write_text("x")
    found = input_files([tmp_path / "c.jsonl", tmp_path / "b", str(tmp_path / "**" / "*.txt")])
    assert found == [tmp_path / "c.jsonl", tmp_path / "b" / "1.txt", tmp_path / "b" / "2.txt"]
    with pytest.raises(InputError, match="no such file"):
        input_files([tmp_path / "missing.jsonl"])
    with pytest.raises(InputError, match="names no file"):
        input_files([str(tmp_path / "*.csv")])


@pytest.mark.parametrize("suffix", [".jsonl", ".csv", ".conll", ".txt", ".jsonl.gz"])
def test_reading_from_a_record_on_gives_the_same_records_as_reading_all(tmp_path, suffix):
    path = tmp_path / f"f{suffix}"
    texts = [f"Alma {n} met Borel" for n in range(7)]
    body = {
        ".jsonl": "".join(json.dumps({"text": t}) + "\n" for t in texts),
        ".csv": "text\n" + "".join(f"{t}\n" for t in texts),
        ".conll": "".join(f"{t.replace(' ', ' O' + chr(10))} O\n\n" for t in texts),
        ".txt": "one document",
        ".jsonl.gz": "".join(json.dumps({"text": t}) + "\n" for t in texts),
    }[suffix]
    path.write_bytes(gzip.compress(body.encode()) if suffix.endswith(".gz") else body.encode())
    everything = list(read_items(path, Fields()))
    for skip in range(len(everything) + 1):
        assert list(read_items(path, Fields(), skip)) == everything[skip:]


@settings(max_examples=60, deadline=None)
@given(
    data=st.binary(max_size=400), suffix=st.sampled_from([".jsonl", ".csv", ".conll", ".txt", ".jsonl.gz"])
)
def test_whatever_the_bytes_every_record_is_a_document_or_a_located_reject(tmp_path_factory, data, suffix):
    path = tmp_path_factory.mktemp("bytes") / f"f{suffix}"
    path.write_bytes(data)
    for _, item in read_items(path, Fields()):
        assert isinstance(item, Document | Rejected)
        assert item.source.startswith(str(path))
        if isinstance(item, Document):
            assert item.text.strip() and "\x00" not in item.text
