"""JSON with an integer of more than 4,300 digits: Python's parser raises a plain ValueError for it, which
every reader of outside JSON must turn into a clear rejection with the place, not a traceback."""

import pytest

from nerd.annotation.prompt_inputs import InputFormat, read_sentences
from nerd.errors import InputError
from nerd.json_files import read_json
from nerd.records import read_records

HUGE = "7" * 5000


def test_training_records(tmp_path):
    path = tmp_path / "data.jsonl"
    path.write_text('{"id": "a", "tokens": ["x"], "tags": ["O"], "n": ' + HUGE + "}\n")
    with pytest.raises(InputError, match=r"data\.jsonl:1: not JSON: Exceeds the limit"):
        list(read_records(path))


def test_json_files(tmp_path):
    path = tmp_path / "labels.json"
    path.write_text('{"PER": ' + HUGE + "}")
    with pytest.raises(InputError, match="not JSON: Exceeds the limit"):
        read_json(path)


def test_jsonl_articles(tmp_path):
    path = tmp_path / "articles.jsonl"
    path.write_text('{"text": "Ann ran.", "n": ' + HUGE + "}\n")
    with pytest.raises(InputError, match=r"articles\.jsonl:1: not JSON"):
        read_sentences(path, InputFormat.jsonl)
