"""Raw-text scoring: the sentences as a REST caller sends them, entities compared as character spans."""

import json

import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from nerd.evaluation.predictors import Predictions, Predictor
from nerd.evaluation.raw_text import joined, raw_text_evaluation
from nerd.tokenization import tokenize_words


def echoing(answers):
    """A test double for a loaded model: answers each word sequence from a table (``O`` by default)."""

    def run(sentences):
        return Predictions([answers.get(tuple(words), ["O"] * len(words)) for words in sentences], 0.0, 0.0)

    return Predictor(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"], "echo", run, "viterbi")


def test_entities_count_only_where_their_characters_match_the_gold_ones():
    tokens = ["1.", "Hill", "(", "U.S.", ")", "C$", "5"]
    gold = ["O", "B-PER", "O", "B-LOC", "O", "O", "O"]
    # The service's words are the data's tokens: the model's answer is scored as on the tokens.
    words = tuple(tokenize_words(" ".join(tokens)))
    assert list(words) == tokens
    right = raw_text_evaluation([tokens], [gold], echoing({words: gold}), {})
    assert right["scores"]["micro"]["f1"] == 1.0 and right["resplit_sentences"] == 0
    # "Hill (" as one entity covers other characters: a false positive and a miss.
    wrong = ["O", "B-PER", "I-PER", "B-LOC", "O", "O", "O"]
    scored = raw_text_evaluation([tokens], [gold], echoing({words: wrong}), {})["scores"]
    assert scored["per_type"]["PER"]["f1"] == 0.0 and scored["per_type"]["LOC"]["f1"] == 1.0


def test_a_sentence_the_service_splits_otherwise_is_counted_and_scored_on_its_characters():
    tokens = ["Smith", "of", "A.de", "won"]  # the service reads "A.de" as "A", ".", "de"
    gold = ["B-PER", "O", "B-LOC", "O"]
    words = tuple(tokenize_words(" ".join(tokens)))
    assert words == ("Smith", "of", "A", ".", "de", "won")
    answer = ["B-PER", "O", "B-LOC", "I-LOC", "I-LOC", "O"]  # the same characters as the gold LOC
    report = raw_text_evaluation([tokens], [gold], echoing({words: answer}), {})
    assert report["resplit_sentences"] == 1 and report["scores"]["micro"]["f1"] == 1.0
    half = ["B-PER", "O", "B-LOC", "O", "O", "O"]
    assert raw_text_evaluation([tokens], [gold], echoing({words: half}), {})["scores"]["micro"]["f1"] == 0.5


tokens = st.lists(st.text(st.characters(exclude_categories=["Z", "C"]), min_size=1, max_size=6), min_size=1)


@given(
    tokens.flatmap(
        lambda ts: st.tuples(
            st.just(ts),
            st.lists(st.sampled_from(["O", "B-PER", "I-PER"]), min_size=len(ts), max_size=len(ts)),
        )
    )
)
def test_gold_tags_given_back_on_the_data_s_own_tokens_score_one(case):
    sentence, tags = case
    from nerd.spans import repair_iob2

    tags = repair_iob2(tags)
    text, offsets = joined(sentence)
    assert [text[start:end] for start, end in offsets] == sentence
    words = tuple(tokenize_words(text))
    # A model answering the gold spans wherever the service's words line up with them scores 1 when
    # the words are the tokens, and never crashes when they are not.
    report = raw_text_evaluation(
        [sentence], [tags], echoing({words: tags} if list(words) == sentence else {}), {}
    )
    if list(words) == sentence and any(tag != "O" for tag in tags):
        assert report["scores"]["micro"]["f1"] == 1.0
    assert report["resplit_sentences"] == (list(words) != sentence)


def test_nerd_evaluate_reports_raw_text_beside_token_scores(exported_bundles, tmp_path):
    pytest.importorskip("onnxruntime")
    from nerd.cli.main import app

    out, _, sample = exported_bundles
    report_path = tmp_path / "r.json"
    result = CliRunner().invoke(
        app, ["evaluate", str(out / "onnx-int8"), str(sample), "--raw-text", "--json", str(report_path)]
    )
    assert result.exit_code == 0, result.output
    assert "raw text through the service's tokenizer" in result.output
    report = json.loads(report_path.read_text())
    raw = report["raw_text"]
    assert raw["sentences"] == report["timing"]["sentences"] and raw["resplit_sentences"] == 0
    # The invented sentences split the same both ways: the same entities, the same score.
    assert raw["scores"]["micro"]["f1"] == report["strict"]["micro"]["f1"]
