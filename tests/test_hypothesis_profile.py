"""The property tests draw the same examples on every run unless fresh randomness is asked for."""

import os

from hypothesis import settings


def test_the_suite_runs_hypothesis_derandomised():
    if os.environ.get("HYPOTHESIS_PROFILE") in {"fuzz", "stress"}:
        assert not settings.default.derandomize
        return
    assert settings.default.derandomize, "a clone could draw inputs this machine never saw"
    assert settings.default.database is None
