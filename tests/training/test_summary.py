import pytest

from nerd.training.summary import summarise, summary_markdown


def scores(f1):
    cell = {"precision": f1, "recall": f1, "f1": f1, "support": 3}
    return {"per_type": {"PER": cell}, "micro": cell, "macro": cell, "weighted": cell}


def test_mean_and_sample_std_per_type_and_average():
    table = summarise([{"dev": scores(0.8)}, {"dev": scores(0.9)}, {"dev": scores(1.0)}])
    assert table["micro"]["f1"] == {"mean": 0.9, "std": pytest.approx(0.1)}
    assert table["per_type"]["PER"]["precision"]["mean"] == 0.9


def test_a_type_missing_from_a_run_counts_as_zero():
    missing = scores(1.0)
    missing["per_type"] = {}
    table = summarise([{"dev": scores(1.0)}, {"dev": missing}])
    assert table["per_type"]["PER"]["f1"]["mean"] == 0.5


def test_markdown_is_in_table_2_layout():
    runs = [
        {"seed": s, "best_epoch": 2, "dev": scores(0.9), "mean_epoch_seconds": 1.0, "wall_seconds": 3}
        for s in (1, 2)
    ]
    text = summary_markdown(
        {"schedule": "simple-mix", "seeds": [1, 2], "table": summarise(runs), "runs": runs}
    )
    assert "| PER | 0.9000 ± 0.0000 | 0.9000 ± 0.0000 | 0.9000 ± 0.0000 |" in text
    assert "| micro avg |" in text
