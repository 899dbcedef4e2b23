"""A uvicorn server in a thread, on a free loopback port, for tests that need real HTTP: the same helpers
the benchmarks use (``nerd.evaluation.http_load``)."""

from nerd.evaluation.http_load import free_port, serving_in_thread

serving = serving_in_thread

__all__ = ["free_port", "serving"]
