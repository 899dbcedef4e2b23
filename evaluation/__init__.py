"""The evaluation stage: ``nerd evaluate`` (scores, errors, reports) and ``nerd bench`` (speed gates)."""
