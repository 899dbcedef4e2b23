import math
import random

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.errors import ConfigError
from nerd.training.schedules import Schedule, epoch_indices, epoch_sample, parse_schedule, schedule_weights


def w0s(name, epochs):
    return [round(w0, 4) for w0, _ in schedule_weights(name, epochs)]


def test_the_paper_formulas_at_known_points():
    assert w0s("original", 3) == [0.0, 0.0, 0.0]
    assert w0s("distilled", 3) == [1.0, 1.0, 1.0]
    assert w0s("simple-mix", 5) == [1.0, 1.0, 1.0, 0.0, 0.0]  # t < T/2 = 2.5
    assert w0s("cosine", 3) == [1.0, 0.5, 0.0]
    assert w0s("power:2", 5) == [1.0, 0.9375, 0.75, 0.4375, 0.0]
    k = 8
    assert w0s("sigmoid:8", 3) == [
        round(1 - 1 / (1 + math.exp(k * 0.5)), 4),
        0.5,
        round(1 - 1 / (1 + math.exp(-k * 0.5)), 4),
    ]


def test_all_trains_on_both_sources_in_full():
    assert schedule_weights("all", 2) == [(1.0, 1.0), (1.0, 1.0)]


def test_one_epoch_is_the_start_of_the_curve():
    assert schedule_weights("cosine", 1) == [(1.0, 0.0)]


@pytest.mark.parametrize(
    ("name", "message"),
    [
        ("linear", "known: original, distilled, simple-mix, sigmoid:K, cosine, power:N, all"),
        ("sigmoid", "needs its parameter k"),
        ("power:x", "not a number"),
        ("power:-1", "positive"),
        ("cosine:3", "takes no parameter"),
    ],
)
def test_bad_names_say_what_is_known(name, message):
    with pytest.raises(ConfigError, match=message):
        parse_schedule(name)


def test_names_round_trip():
    assert str(parse_schedule("sigmoid:8")) == "sigmoid:8" and parse_schedule("power:0.5") == Schedule(
        "power", 0.5
    )


@given(
    st.sampled_from(["sigmoid:2", "sigmoid:32", "cosine", "power:0.1", "power:10", "simple-mix"]),
    st.integers(2, 40),
)
def test_curricula_move_from_distilled_to_original(name, epochs):
    plan = schedule_weights(name, epochs)
    shares = [w0 for w0, _ in plan]
    assert all(0.0 <= w0 <= 1.0 and math.isclose(w0 + w1, 1.0) for w0, w1 in plan)
    assert shares == sorted(shares, reverse=True)


def test_epoch_samples_are_without_replacement_and_reproducible():
    plan = schedule_weights("cosine", 5)
    first = epoch_indices(plan, 100, 40, seed=3)
    assert first == epoch_indices(plan, 100, 40, seed=3)
    assert first != epoch_indices(plan, 100, 40, seed=4)
    for (distilled, original), (w0, w1) in zip(first, plan, strict=True):
        assert len(set(distilled)) == len(distilled) == round(w0 * 100)
        assert len(set(original)) == len(original) == round(w1 * 40)
    assert epoch_sample(5, 1.0, random.Random(0)) == [0, 1, 2, 3, 4]
