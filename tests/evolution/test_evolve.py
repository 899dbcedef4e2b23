"""nerd evolve: a real student's real mistakes out as Batch requests, generated sentences back in,
a round trained and reported; the connected machine is played by the stand-in template teacher."""

import json
from pathlib import Path

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nerd.annotation.answer_lines import read_lines
from nerd.annotation.record_shapes import Shape, read_request, shape_of
from nerd.atomic import OutputError
from nerd.cli.main import app
from nerd.errors import InputError
from nerd.evolution.planning import PlanOptions, plan_round
from nerd.evolution.rounds import read_round
from tests.conftest import conll_of, invented_sentences

runner = CliRunner()


def _probe(path: Path) -> Path:
    """Invented sentences where every name of Tarn is an ORG: the student (taught LOC) errs on them."""
    sentences = []
    for tokens, tags in invented_sentences(40, seed=11):
        tags = ["B-ORG" if token == "Tarn" else tag for token, tag in zip(tokens, tags, strict=True)]
        sentences.append((tokens, tags))
    path.write_text(conll_of(sentences))
    return path


@pytest.fixture
def data(tmp_path):
    dev = tmp_path / "dev.conll"
    dev.write_text(conll_of(invented_sentences(20, seed=13)))
    gazetteer = tmp_path / "gold.conll"
    gazetteer.write_text(conll_of(invented_sentences(30, seed=14)))
    return {"probe": _probe(tmp_path / "probe.conll"), "dev": dev, "gazetteer": gazetteer}


def test_plan_writes_valid_batch_requests_from_the_students_own_mistakes(trained_model, data, tmp_path):
    out = tmp_path / "evolve" / "round-1"
    plan = plan_round(
        trained_model, [data["probe"]], out, PlanOptions(requests=3, mistakes_per_request=2, easy=2, hard=1)
    )

    lines = list(read_lines(out / "requests-00001.jsonl"))
    assert len(lines) == plan.state["requests"]["count"] <= 3
    mistakes = [json.loads(line) for line in (out / "mistakes.jsonl").read_text().splitlines()]
    assert mistakes and all(m["gold"] != m["predicted"] and m["errors"] for m in mistakes)
    assert any(e["gold"] and e["gold"]["text"] == "Tarn" for m in mistakes for e in m["errors"])
    shown = {m["text"] for m in mistakes if m["request"]}
    for line in lines:
        assert shape_of(line.data) is Shape.REQUEST
        assert line.data["method"] == "POST" and line.data["url"] == "/v1/chat/completions"
        request = read_request(line.data, "r", line.number, line.raw)
        assert request.generate == 3
        prompt = line.data["body"]["messages"][-1]["content"]
        assert "This is the first round" in prompt
        shown_here = [text for text in shown if text in prompt]
        assert 1 <= len(shown_here) <= 2
    state = read_round(out).state
    assert state["round"] == 1 and state["request_ids"] == [line.data["custom_id"] for line in lines]
    assert state["errors"]["by_type"]["ORG"]
    assert json.loads((out / "history.json").read_text()) == []
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["kind"] == "generation" and manifest["files"][0]["requests"] == len(lines)


def test_a_round_that_went_out_is_never_replanned_over(trained_model, data, tmp_path):
    out = tmp_path / "round-1"
    options = PlanOptions(requests=1)
    plan_round(trained_model, [data["probe"]], out, options)
    with pytest.raises(OutputError, match="not empty"):
        plan_round(trained_model, [data["probe"]], out, options)
    plan_round(trained_model, [data["probe"]], out, options, force=True)  # only a plan there: fine
    (out / "output.jsonl").write_text("{}\n")
    with pytest.raises(OutputError, match=r"output\.jsonl"):
        plan_round(trained_model, [data["probe"]], out, options, force=True)
    assert (out / "output.jsonl").read_text() == "{}\n"


def _ok(result):
    assert result.exit_code == 0, result.output
    return result


def _plan(model, data, out, *options):
    """nerd evolve plan on the probe data, scored on the dev data too."""
    command = [
        "evolve",
        "plan",
        "--model",
        str(model),
        "--data",
        str(data["probe"]),
        "--eval",
        str(data["dev"]),
    ]
    return _ok(runner.invoke(app, [*command, "--out", str(out), *options]))


def test_the_full_round_trip_plans_imports_trains_and_reports(trained_model, data, tmp_path):
    evolve = tmp_path / "evolve"
    first = evolve / "round-1"
    _plan(trained_model, data, first, "--requests", "4", "--easy", "3", "--hard", "2")
    # The connected machine, played by the template teacher.
    _ok(runner.invoke(app, ["evolve", "stand-in-teacher", str(first), "--gazetteer", str(data["gazetteer"])]))
    _ok(
        runner.invoke(
            app,
            [
                "import",
                str(first / "requests-00001.jsonl"),
                str(first / "stand-in-output.jsonl"),
                "--out",
                str(first / "imported"),
            ],
        )
    )
    report = json.loads((first / "imported" / "report.json").read_text())
    generated = report["generated"]
    assert generated["asked"] == generated["requests"] * 5
    assert generated["imported"] > 0
    assert generated["imported"] + generated["rejected"] + report["duplicates"] == generated["sentences"]
    records = [json.loads(line) for line in (first / "imported" / "data.jsonl").read_text().splitlines()]
    assert any("B-ORG" in record["tags"] and "Tarn" in record["tokens"] for record in records)

    student = tmp_path / "student-1"
    _ok(
        runner.invoke(
            app,
            [
                "train",
                "--base-model",
                str(trained_model),
                "--with-earlier-data",
                "--distilled",
                str(first / "imported" / "data.jsonl"),
                "--dev",
                str(data["dev"]),
                "--schedule",
                "simple-mix",
                "--epochs",
                "2",
                "--lr",
                "1e-3",
                "--batch-size",
                "8",
                "--max-length",
                "32",
                "--out",
                str(student),
                "--device",
                "cpu",
            ],
        )
    )
    card = json.loads((student / "training_card.json").read_text())
    assert card["base_model"] == str(trained_model)
    assert [Path(f["path"]).name for f in card["data"]["distilled"]["files"]] == ["data.jsonl"]
    assert [Path(f["path"]).name for f in card["data"]["original"]["files"]] == ["train.conll"]
    before = first / "evaluation-before.json"
    gain = _ok(
        runner.invoke(
            app,
            [
                "evaluate",
                str(student),
                str(data["dev"]),
                "--json",
                str(first / "evaluation.json"),
                "--compare",
                str(before),
            ],
        )
    )
    assert "Against" in gain.output and "micro f1" in gain.output

    second = evolve / "round-2"
    _plan(student, data, second, "--requests", "2")
    history = json.loads((second / "history.json").read_text())
    assert [entry["round"] for entry in history] == [1]
    assert history[0]["imported"] == generated["imported"]
    assert history[0]["analyses"] and "stand-in" in history[0]["analyses"][0]
    prompt = json.loads((second / "requests-00001.jsonl").read_text().splitlines()[0])["body"]["messages"][-1]
    assert "Round 2." in prompt["content"] and "- Round 1: micro F1" in prompt["content"]
    assert "Your analysis then: Analysis (stand-in" in prompt["content"]

    result = _ok(
        runner.invoke(
            app,
            [
                "evolve",
                "report",
                str(evolve),
                "--json",
                str(tmp_path / "rows.json"),
                "--markdown",
                str(tmp_path / "rows.md"),
            ],
        )
    )
    rows = json.loads((tmp_path / "rows.json").read_text())
    assert [row["round"] for row in rows] == [1, 2]
    evaluation = json.loads((first / "evaluation.json").read_text())
    assert rows[0]["after_f1"] == evaluation["micro"]["f1"]
    assert rows[0]["gain"] == round(evaluation["micro"]["f1"] - rows[0]["eval_f1"], 4)
    assert rows[1]["after_f1"] is None and rows[1]["gain"] is None
    assert "Evolution rounds" in result.output
    assert (tmp_path / "rows.md").read_text().count("\n") == 4


def test_continuing_a_student_needs_its_labels(trained_model, tmp_path):
    other = tmp_path / "other.conll"
    other.write_text("Ann B-PER\nof O\nMars B-MISC\n\nBob B-PER\nsang O\n\n")
    result = runner.invoke(
        app,
        [
            "train",
            "--base-model",
            str(trained_model),
            "--original",
            str(other),
            "--dev",
            str(other),
            "--schedule",
            "original",
            "--max-length",
            "32",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    assert "token classifier trained on" in result.output and "MISC" in result.output


def test_earlier_data_that_changed_is_refused(trained_model, tmp_path):
    card = json.loads((trained_model / "training_card.json").read_text())
    original = Path(card["data"]["original"]["files"][0]["path"])
    copy = tmp_path / "checkpoint"
    import shutil

    shutil.copytree(trained_model, copy)
    card["data"]["original"]["files"][0]["sha256"] = "0" * 64
    (copy / "training_card.json").write_text(json.dumps(card))
    result = runner.invoke(
        app,
        [
            "train",
            "--base-model",
            str(copy),
            "--with-earlier-data",
            "--dev",
            str(original),
            "--schedule",
            "original",
            "--out",
            str(tmp_path / "o"),
        ],
    )
    assert result.exit_code == 1
    assert "has changed since it was trained" in result.output


_json = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(max_size=8),
    lambda inner: (
        st.lists(inner, max_size=3)
        | st.dictionaries(
            st.sampled_from(["round", "student", "path", "scores", "micro", "f1", "eval", "x"]), inner
        )
    ),
    max_leaves=15,
)


@settings(max_examples=150, deadline=None)
@given(st.one_of(st.binary(max_size=200), _json.map(lambda value: json.dumps(value).encode())))
def test_any_round_file_is_read_or_refused_clearly(tmp_path_factory, content):
    directory = tmp_path_factory.mktemp("round")
    (directory / "round.json").write_bytes(content)
    try:
        round_ = read_round(directory)
    except InputError as error:
        assert "round.json" in str(error)
    else:
        assert isinstance(round_.number, int)


def test_an_edited_round_file_names_the_field(tmp_path):
    (tmp_path / "round.json").write_text(json.dumps({"round": 1, "student": {"path": "m"}, "scores": {}}))
    with pytest.raises(InputError, match=r"round\.json.*scores\.micro\.f1"):
        read_round(tmp_path)


def test_every_evolve_command_explains_its_options():
    for command, option in (
        ("plan", "--seed"),
        ("stand-in-teacher", "--gazetteer"),
        ("report", "--markdown"),
    ):
        result = runner.invoke(app, ["evolve", command, "--help"])
        assert result.exit_code == 0 and option in result.output


def test_reviewed_sentences_are_the_probe_gold_of_a_round(trained_model, data, tmp_path):
    """Issue 27: sentences people reviewed (nerd review export --conll) are what a round probes."""
    pytest.importorskip("sqlalchemy")
    from nerd.conll import read_conll
    from nerd.review.exporting import export_reviewed
    from nerd.review.store import NewItem, ReviewStore
    from nerd.review.suggestions import spans_of_tags

    store = ReviewStore(tmp_path / "review.db", create=True)
    store.create(["PER", "LOC", "ORG", "MISC"])
    sentences = read_conll(data["probe"]).sentences
    store.add_items([NewItem(tuple(s.tokens), "probe") for s in sentences])
    for item, sentence in zip(store.items(), sentences, strict=True):
        store.decide(item.id, "ann", "accept", spans_of_tags(sentence.tags))
    reviewed = tmp_path / "reviewed.conll"
    export_reviewed(store, conll=reviewed)
    out = tmp_path / "round-1"
    command = ["evolve", "plan", "--model", str(trained_model), "--data", str(reviewed), "--out", str(out)]
    _ok(runner.invoke(app, [*command, "--requests", "1"]))
    assert read_round(out).state["round"] == 1
