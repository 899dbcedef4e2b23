import json
from pathlib import Path

import pytest

from nerd.annotation.answers import extract_entities
from nerd.annotation.batch_requests import split_into_files
from nerd.annotation.few_shot import Selection
from nerd.annotation.importing import import_answers
from nerd.annotation.prompt_inputs import InputFormat
from nerd.annotation.prompt_templates import Template
from nerd.annotation.request_writing import PromptOptions, write_prompts
from nerd.atomic import OutputError
from nerd.errors import ConfigError
from tests.factories import conll_text, output_line, write_lines

GOLD = conll_text(
    [
        [("Ann", "B-PER"), ("visited", "O"), ("Oslo", "B-LOC"), (".", "O")],
        [("Acme", "B-ORG"), ("shares", "O"), ("fell", "O"), (".", "O")],
        [("French", "B-MISC"), ("wine", "O"), ("sold", "O"), ("well", "O")],
        [("Shares", "O"), ("of", "O"), ("Acme", "B-ORG"), ("rose", "O")],
    ]
)


def requests_of(out: Path) -> list[dict]:
    return [
        json.loads(line)
        for path in sorted(out.glob("requests-*.jsonl"))
        for line in path.read_text().splitlines()
    ]


def test_conll_input_gives_one_request_per_distinct_sentence(tmp_path):
    source = tmp_path / "in.conll"
    source.write_text(
        GOLD + conll_text([[("Ann", "B-PER"), ("visited", "O"), ("Oslo", "B-LOC"), (".", "O")]])
    )
    manifest = write_prompts(source, tmp_path / "out", PromptOptions())
    requests = requests_of(tmp_path / "out")
    assert manifest["counts"] == {"sentences": 5, "duplicates_skipped": 1, "requests": 4, "files": 1}
    assert {r["method"] for r in requests} == {"POST"} and {r["url"] for r in requests} == {
        "/v1/chat/completions"
    }
    assert requests[0]["body"]["messages"][-1]["content"] == "Sentence: Ann visited Oslo ."
    assert "step by step" in requests[0]["body"]["messages"][0]["content"]


def test_custom_ids_are_stable_and_depend_on_the_prompt_version(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("Ann visited Oslo.\nAcme shares fell.\n")
    ids = []
    for name, template in (("a", Template.cot), ("b", Template.cot), ("c", Template.standard)):
        write_prompts(source, tmp_path / name, PromptOptions(template=template))
        ids.append([r["custom_id"] for r in requests_of(tmp_path / name)])
    assert ids[0] == ids[1]
    assert set(ids[0]).isdisjoint(ids[2])


def test_raw_articles_are_split_and_tokenised_like_import(tmp_path):
    source = tmp_path / "articles.txt"
    source.write_text("Mr. Blair met Bono. They talked in London's centre.\n\nSecond article here.")
    write_prompts(source, tmp_path / "out", PromptOptions(), fmt=InputFormat.articles)
    sentences = [r["body"]["messages"][-1]["content"] for r in requests_of(tmp_path / "out")]
    assert sentences == [
        "Sentence: Mr. Blair met Bono .",
        "Sentence: They talked in London 's centre .",
        "Sentence: Second article here .",
    ]


def test_files_are_split_at_the_limits_and_checksummed(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("".join(f"Sentence number {i} here.\n" for i in range(25)))
    manifest = write_prompts(source, tmp_path / "out", PromptOptions(max_requests_per_file=10))
    assert [part["requests"] for part in manifest["files"]] == [10, 10, 5]
    import hashlib

    for part in manifest["files"]:
        assert hashlib.sha256((tmp_path / "out" / part["name"]).read_bytes()).hexdigest() == part["sha256"]
    assert [len(f.lines) for f in split_into_files(["x" * 99] * 5, max_bytes=250)] == [2, 2, 1]


def test_an_existing_request_set_is_not_overwritten_without_force(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("One.\nTwo.\nThree.\n")
    write_prompts(source, tmp_path / "out", PromptOptions(max_requests_per_file=1))
    with pytest.raises(OutputError, match="--force"):
        write_prompts(source, tmp_path / "out", PromptOptions())
    write_prompts(source, tmp_path / "out", PromptOptions(), force=True)
    assert sorted(p.name for p in (tmp_path / "out").glob("requests-*")) == ["requests-00001.jsonl"]


def test_similar_examples_are_the_closest_gold_sentences(tmp_path):
    gold = tmp_path / "gold.conll"
    gold.write_text(GOLD)
    source = tmp_path / "in.txt"
    source.write_text("Acme shares rose sharply.\n")
    options = PromptOptions(examples=gold, shots=2, selection=Selection.similar)
    write_prompts(source, tmp_path / "out", options)
    messages = requests_of(tmp_path / "out")[0]["body"]["messages"]
    shown = [m["content"] for m in messages if m["role"] == "user"][:-1]
    assert set(shown) == {"Sentence: Acme shares fell .", "Sentence: Shares of Acme rose"}
    answers = [m["content"] for m in messages if m["role"] == "assistant"]
    assert all(extract_entities(answer)["ORG"] == ["Acme"] for answer in answers)


def test_fixed_examples_cover_every_label(tmp_path):
    gold = tmp_path / "gold.conll"
    gold.write_text(GOLD)
    source = tmp_path / "in.txt"
    source.write_text("Something new.\n")
    write_prompts(source, tmp_path / "out", PromptOptions(examples=gold, shots=3))
    answers = [
        m["content"] for m in requests_of(tmp_path / "out")[0]["body"]["messages"] if m["role"] == "assistant"
    ]
    labels = {label for answer in answers for label, texts in extract_entities(answer).items() if texts}
    assert labels == {"PER", "LOC", "ORG", "MISC"}


def test_shots_without_examples_is_an_error(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("x\n")
    with pytest.raises(ConfigError):
        write_prompts(source, tmp_path / "out", PromptOptions(shots=2))


def test_requests_round_trip_through_a_scripted_teacher_into_import(tmp_path):
    source = tmp_path / "in.txt"
    source.write_text("Tony Blair met Bono in London.\nNothing to see here.\n")
    write_prompts(source, tmp_path / "out", PromptOptions())
    answers = []
    for req in requests_of(tmp_path / "out"):
        sentence = req["body"]["messages"][-1]["content"]
        found = {
            "PER": [n for n in ("Tony Blair", "Bono") if n in sentence],
            "LOC": ["London"] if "London" in sentence else [],
        }
        answers.append(output_line(req["custom_id"], "1. Context...\nResult: " + json.dumps(found)))
    write_lines(tmp_path / "back" / "output.jsonl", answers)
    result = import_answers([tmp_path / "out", tmp_path / "back"])
    assert result.report["rejected"] == 0
    assert result.records[0].tags == ["B-PER", "I-PER", "O", "B-PER", "O", "B-LOC", "O"]
