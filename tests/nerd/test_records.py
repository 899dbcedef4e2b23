"""Training records with soft labels: what nerd label writes and nerd train --soft reads."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.errors import InputError
from nerd.records import read_records

LABELS = ["O", "B-PER", "I-PER"]


def write(tmp_path, record):
    path = tmp_path / "soft.jsonl"
    path.write_text(json.dumps(record) + "\n")
    return path


def soft_record(**changes):
    record = {
        "id": "s1",
        "tokens": ["Alma", "sang"],
        "tags": ["B-PER", "O"],
        "labels": LABELS,
        "probabilities": [[0.1, 0.8, 0.1], [0.9, 0.05, 0.05]],
    }
    return record | changes


def test_a_soft_record_reads_back(tmp_path):
    (record,) = read_records(write(tmp_path, soft_record()))
    assert record.labels == LABELS and record.probabilities[0] == [0.1, 0.8, 0.1]


@pytest.mark.parametrize(
    ("changes", "message"),
    [
        ({"labels": None}, "come together"),
        ({"probabilities": [[1.0, 0.0, 0.0]]}, "2 tokens but 1 probability rows"),
        ({"probabilities": [[1.0, 0.0], [1.0, 0.0]]}, "row 0 has 2 values for 3 labels"),
        ({"probabilities": [[0.5, 0.0, 0.0], [1.0, 0.0, 0.0]]}, "row 0 is not a distribution"),
        ({"probabilities": [[1.5, -0.5, 0.0], [1.0, 0.0, 0.0]]}, "row 0 is not a distribution"),
        ({"labels": ["B-PER", "I-PER", "B-LOC"]}, "include O"),
    ],
)
def test_a_broken_distribution_is_refused_naming_file_and_line(tmp_path, changes, message):
    path = write(tmp_path, {k: v for k, v in soft_record(**changes).items() if v is not None})
    with pytest.raises(InputError, match=message) as raised:
        list(read_records(path))
    assert f"{path}:1" in str(raised.value)


values = st.one_of(
    st.floats(allow_nan=True, allow_infinity=True), st.integers(), st.text(max_size=3), st.none()
)


@given(
    labels=st.one_of(st.lists(st.text(max_size=5), max_size=4), values),
    rows=st.one_of(st.lists(st.lists(values, max_size=4), max_size=3), values),
)
def test_any_soft_fields_give_a_record_or_a_clear_error(tmp_path_factory, labels, rows):
    path = tmp_path_factory.mktemp("r") / "soft.jsonl"
    path.write_text(json.dumps(soft_record(labels=labels, probabilities=rows)) + "\n")
    try:
        (record,) = read_records(path)
    except InputError as error:
        assert str(path) in str(error)
    else:
        assert record.probabilities is None or len(record.probabilities) == len(record.tokens)
