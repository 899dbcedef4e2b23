"""The helpers of docs/quality.md's recipe: the BBC text pool and the ablation table."""

import json

import pytest

from nerd.errors import InputError
from nerd.experiments.quality_table import table
from nerd.experiments.text_pool import draw_articles, main


def test_articles_are_drawn_with_a_seed_and_written_as_running_text(tmp_path):
    source = tmp_path / "bbc.jsonl"
    source.write_text("".join(json.dumps({"text": f"Story {i}.\n\nMore {i}."}) + "\n" for i in range(5)))
    assert draw_articles(source, 3, seed=1) == draw_articles(source, 3, seed=1)
    assert len(draw_articles(source, 10, seed=1)) == 5
    out = tmp_path / "pool.txt"
    main([str(source), "--out", str(out), "--articles", "2"])
    assert out.read_text().count("\n\n") == 1  # two articles, paragraphs kept on single newlines
    source.write_text('{"title": "no text"}\n')
    with pytest.raises(InputError, match=r"bbc\.jsonl:1 \[text\]: no string field"):
        draw_articles(source, 1, seed=1)


def report(f1, per_type):
    return {"micro": {"f1": f1}, "per_type": {k: {"f1": v} for k, v in per_type.items()}}


def test_the_table_averages_finished_seeds_only(tmp_path):
    for seed, f1 in ((1, 0.80), (2, 0.90)):
        run = tmp_path / "student" / f"seed-{seed}"
        run.mkdir(parents=True)
        (run / "training_card.json").write_text(json.dumps({"status": "complete", "wall_seconds": 600}))
        (run / "evaluate-int8.json").write_text(json.dumps(report(f1, {"PER": f1})))
    unfinished = tmp_path / "student" / "seed-3"
    unfinished.mkdir()
    (unfinished / "training_card.json").write_text(json.dumps({"status": "interrupted", "wall_seconds": 1}))
    text = table(tmp_path)
    assert "| 2 | – | 0.8500 ± 0.0707 | – | 10.0 |" in text
    assert "| student | 0.8500 ± 0.0707 |" in text
    assert "| paper's simple mix: LLM answers, then 1,000 gold | 0 |" in text


def test_the_default_model_table_reads_every_report_of_finished_seeds(tmp_path):
    from nerd.experiments.default_model_table import table as default_table

    for seed, f1 in ((1, 0.90), (2, 0.92)):
        run = tmp_path / "shapes" / f"seed-{seed}"
        run.mkdir(parents=True)
        (run / "training_card.json").write_text(json.dumps({"status": "complete", "wall_seconds": 840}))
        with_raw = report(f1, {}) | {"raw_text": {"scores": {"micro": {"f1": f1 - 0.01}}}}
        for name in ("evaluate-int8.json", "evaluate-btc.json"):
            (run / name).write_text(json.dumps(with_raw))
        for name in ("evaluate-lower.json", "evaluate-upper.json"):
            (run / name).write_text(json.dumps(report(f1 - 0.05, {})))
    missing = tmp_path / "shapes" / "seed-3"  # finished, but not yet scored on BTC: left out
    missing.mkdir()
    (missing / "training_card.json").write_text(json.dumps({"status": "complete", "wall_seconds": 1}))
    text = default_table(tmp_path)
    assert (
        "| word shapes, half the windows lower-cased, sentences in capitals read as lower-cased | 2 | "
        "0.9100 ± 0.0141 | 0.9000 ± 0.0141 | "
        "0.8600 ± 0.0141 | 0.8600 ± 0.0141 | 0.9100 ± 0.0141 | 0.9000 ± 0.0141 | 14.0 |"
    ) in text
    assert "| MiniLM on CoNLL train (the model before word shapes) | 0 |" in text


def test_the_showcase_tags_texts_as_the_service_does_side_by_side(exported_bundles):
    pytest.importorskip("onnxruntime")
    from nerd.experiments.showcase import entities, table
    from nerd.tagging.onnx_tagger import OnnxTagger

    out, _, _ = exported_bundles
    texts = ["Alma met Borel in Quenby.", "the report | said"]
    found = [entities(OnnxTagger(out / variant), texts) for variant in ("onnx-fp32", "onnx-int8")]
    assert ("Quenby", "LOC") in found[0][0] and found[0][1] == []
    text = table(texts, ["fp32", "int8"], found)
    assert text.splitlines()[0] == "| text | fp32 | int8 |"
    assert "| the report / said | – | – |" in text  # a pipe in a text cannot break the table


def test_labelled_records_are_scored_against_the_gold_file_they_came_from(tmp_path, capsys):
    from nerd.experiments.score_labels import main as score_main
    from nerd.experiments.score_labels import score_labels

    gold = tmp_path / "gold.conll"
    gold.write_text("Anna B-PER\nsang O\n\nin O\nRome B-LOC\n\n")
    labelled = tmp_path / "data.jsonl"

    def write(*rows):
        labelled.write_text(
            "".join(
                json.dumps({"id": f"s{i}", "tokens": t, "tags": g}) + "\n" for i, (t, g) in enumerate(rows)
            )
        )

    write((["Anna", "sang"], ["B-PER", "O"]), (["in", "Rome"], ["O", "B-ORG"]))  # one of two right
    scores = score_labels(labelled, gold)
    assert scores["default"]["micro"]["f1"] == 0.5
    assert scores["default"]["per_type"]["LOC"]["f1"] == 0.0
    score_main([str(labelled), str(gold), "--json", str(tmp_path / "scores.json")])
    assert "default: micro F1 0.5000" in capsys.readouterr().out
    assert json.loads((tmp_path / "scores.json").read_text())["strict"]["micro"]["f1"] == 0.5
    write((["Anna", "sang"], ["B-PER", "O"]), (["in", "Paris"], ["O", "B-LOC"]))
    with pytest.raises(InputError, match=r"data\.jsonl:2: record 2 \(s1\) has other tokens"):
        score_labels(labelled, gold)
    write((["Anna", "sang"], ["B-PER", "O"]))
    with pytest.raises(InputError, match="1 labelled records but 2 gold sentences"):
        score_labels(labelled, gold)
