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
