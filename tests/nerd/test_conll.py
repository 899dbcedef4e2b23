import contextlib

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.conll import format_conll, parse_conll, read_conll, write_conll
from nerd.errors import ConllFormatError, NerdWarning

FOUR_COLUMNS = (
    "-DOCSTART- -X- -X- O\n\n"
    "Acme NNP B-NP B-ORG\nbuys VBZ B-VP O\nDanish JJ B-NP B-MISC\n\n"
    "Maria NNP B-NP B-PER\nLopez NNP I-NP I-PER\n\n"
    "-DOCSTART- -X- -X- O\n\n"
    "LISBON NNP B-NP B-LOC\n\n"
)


def test_reads_four_columns_with_docstarts():
    corpus = parse_conll(FOUR_COLUMNS)
    assert corpus.column_count == 4
    assert [s.tokens for s in corpus.sentences] == [
        ("Acme", "buys", "Danish"),
        ("Maria", "Lopez"),
        ("LISBON",),
    ]
    assert corpus.sentences[1].tags == ("B-PER", "I-PER")
    assert corpus.sentences[0].docstart is not None and corpus.sentences[1].docstart is None
    assert corpus.labels == {"ORG", "MISC", "PER", "LOC"}


def test_writes_back_byte_for_byte():
    assert format_conll(parse_conll(FOUR_COLUMNS).sentences) == FOUR_COLUMNS
    two = "A B-PER\nb I-PER\n\nc O\n\n"
    assert format_conll(parse_conll(two).sentences) == two


def test_iob1_is_detected_and_normalised():
    corpus = parse_conll("Maria I-PER\nLopez I-PER\nParis B-PER\n\nin O\nBonn I-LOC\n\n")
    assert corpus.scheme == "iob1"
    assert corpus.sentences[0].tags == ("B-PER", "I-PER", "B-PER")
    assert corpus.sentences[1].tags == ("O", "B-LOC")


def test_iob2_mode_names_the_line_of_a_dangling_i_tag():
    with pytest.raises(ConllFormatError) as error:
        parse_conll("a O\nb O\n\nc O\nd I-LOC\n", source="x.conll", scheme="iob2")
    assert error.value.line == 5
    assert "x.conll:5" in str(error.value)


@pytest.mark.parametrize(
    ("text", "line"),
    [
        ("a O\nb B-\n", 2),
        ("a O\nb X-LOC\n", 2),
        ("a NN O\nb O\n", 2),
        ("a\n", 1),
    ],
)
def test_malformed_lines_are_errors_naming_the_line(text, line):
    with pytest.raises(ConllFormatError) as error:
        parse_conll(text, source="f.conll")
    assert error.value.line == line


def test_crlf_and_missing_final_newline(tmp_path):
    path = tmp_path / "x.conll"
    path.write_bytes(b"a B-PER\r\nb O\r\n\r\nc O")
    corpus = read_conll(path)
    assert [s.tokens for s in corpus.sentences] == [("a", "b"), ("c",)]


def test_invalid_utf8_names_the_line(tmp_path):
    path = tmp_path / "x.conll"
    path.write_bytes(b"a O\n\xff O\n")
    with pytest.raises(ConllFormatError) as error:
        read_conll(path)
    assert error.value.line == 2


def test_write_is_stable_after_one_round(tmp_path):
    messy = "a\tB-PER\nb   I-PER\n\n\n\nc O\n-DOCSTART- O\n"
    once = format_conll(
        parse_conll(messy).sentences, trailing_docstarts=parse_conll(messy).trailing_docstarts
    )
    path = tmp_path / "out.conll"
    write_conll(path, parse_conll(once).sentences, trailing_docstarts=parse_conll(once).trailing_docstarts)
    assert path.read_text() == once


PIECES = st.sampled_from(
    ["a", "b", " ", "\t", "\n", "\n\n", "O", "B-LOC", "I-LOC", "I-PER", "B-", "-DOCSTART-", "X"]
)


@given(st.lists(PIECES, max_size=60).map("".join))
def test_any_text_is_read_or_rejected_with_a_line(text):
    try:
        corpus = parse_conll(text, source="fuzz")
    except ConllFormatError as error:
        assert error.path == "fuzz"
        assert error.line is not None
    else:
        again = parse_conll(format_conll(corpus.sentences, trailing_docstarts=corpus.trailing_docstarts))
        assert [s.tags for s in again.sentences] == [s.tags for s in corpus.sentences]


@given(st.binary(max_size=300))
def test_any_bytes_never_crash_the_reader(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("c") / "f.conll"
    path.write_bytes(data)
    with contextlib.suppress(ConllFormatError):
        read_conll(path)


def test_a_line_of_only_invisible_characters_is_a_blank_line_with_a_warning(tmp_path):
    path = tmp_path / "emerging.dev.conll"
    path.write_text("\ufeffEU B-ORG\nrejects O\n\ufeff\nGerman B-MISC\n\u200b \ncall O\n", encoding="utf-8")
    with pytest.warns(
        NerdWarning, match=r"emerging.dev.conll:3: a line of only invisible characters \(U\+FEFF\)"
    ):
        corpus = read_conll(path)
    assert [s.tokens for s in corpus.sentences] == [("EU", "rejects"), ("German",), ("call",)]


@pytest.mark.parametrize(
    ("text", "reason"), [("", "the file is empty"), ("-DOCSTART- O\n\n\n", "only blank")]
)
def test_a_file_without_sentences_is_an_error_naming_it(tmp_path, text, reason):
    path = tmp_path / "empty.conll"
    path.write_text(text)
    with pytest.raises(ConllFormatError, match=f"{path}: no sentences: {reason}"):
        read_conll(path)
