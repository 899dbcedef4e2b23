"""Reproduction of the paper's experiments (arXiv 2402.09282, phases 1-3) with nerd's own pipeline."""
