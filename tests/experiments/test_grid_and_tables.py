import pytest

from nerd.experiments.config import GridConfig
from nerd.experiments.grid import Setting, cells, settings
from nerd.experiments.tables import entries, phase2_rows, phase3_rows, wide_table


def grid(**fields):
    base = {
        "original": ["o.conll"],
        "dev": "d.conll",
        "seeds": [1, 2],
        "teacher": {"conll": "c", "bbc": "b", "gold": "g"},
    }
    return GridConfig.model_validate({**base, **fields})


def test_group_e_and_phase_3_simple_mix_are_one_setting_run_once():
    config = grid(groups=["A", "E"], schedules=["simple-mix", "cosine"], lr_decays=[0.9])
    names = [s.slug for s in settings(config)]
    assert names == [
        "none_original_constant",
        "conll+bbc_simple-mix_constant",
        "conll+bbc_cosine_constant",
        "none_original_decay-0.9",
        "conll+bbc_simple-mix_decay-0.9",
        "conll+bbc_cosine_decay-0.9",
    ]
    assert len(cells(config)) == 12 and len({c.slug for c in cells(config)}) == 12


def result(setting: Setting, seed: int, f1: float) -> dict:
    scores = {"precision": f1, "recall": f1, "f1": f1, "support": 10}
    return {
        "distilled": setting.distilled,
        "schedule": setting.schedule,
        "lr_decay": setting.lr_decay,
        "seed": seed,
        "dev": {"micro": scores, "per_type": {"PER": scores}},
        "wall_seconds": 10.0,
    }


def test_entries_give_mean_and_sample_std_over_seeds():
    a = Setting("none", "original", None)
    table = entries([result(a, 2, 0.80), result(a, 1, 0.90)])
    entry = table[a]
    assert entry.seeds == (1, 2)
    assert entry.mean == pytest.approx(0.85) and entry.std == pytest.approx(0.0707, abs=1e-4)
    assert entry.cell() == "0.8500 ± 0.0707 (2)"
    assert entry.type_f1["PER"] == (0.90, 0.80) and entry.type_f1["LOC"] == (0.0, 0.0)


def test_wide_table_marks_cells_not_run():
    a = Setting("none", "original", None)
    table = entries([result(a, 1, 0.8)])
    text = wide_table(phase2_rows(["A", "B"], [None, 0.95]), table, [None, 0.95])
    lines = text.splitlines()
    assert lines[0] == "|  | training data and order | micro F1, constant lr | micro F1, lr decay 0.95 |"
    assert lines[2] == "| A | original only | 0.8000 ± 0.0000 (1) | – |"
    assert lines[3] == "| B | distilled CoNLL only | – | – |"


def test_phase_3_rows_follow_the_paper_order():
    given = ["power:2", "cosine", "sigmoid:16", "all", "sigmoid:2", "simple-mix", "power:0.5"]
    rows = phase3_rows(given, [None])
    assert [name for name, _, _ in rows] == [
        "simple-mix", "all", "sigmoid:2", "sigmoid:16", "power:0.5", "power:2", "cosine"
    ]  # fmt: skip
