"""The service's Prometheus metrics, through ``prometheus_client``.

Each app has a registry of its own (tests build many apps in one process). With several uvicorn
workers, ``nerd serve`` sets ``PROMETHEUS_MULTIPROC_DIR`` and every worker writes its values there;
``GET /metrics`` then answers for all workers together, whichever worker takes the request.
"""

from __future__ import annotations

import os

from prometheus_client import CollectorRegistry, Counter, Histogram, generate_latest, multiprocess
from prometheus_client.exposition import CONTENT_TYPE_LATEST

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)
MULTIPROCESS_DIR = "PROMETHEUS_MULTIPROC_DIR"
CONTENT_TYPE = CONTENT_TYPE_LATEST


class ServiceMetrics:
    """Requests by route template and status, errors by kind, latency, texts per model call, reloads."""

    def __init__(self) -> None:
        self.registry = CollectorRegistry()
        self.requests = Counter(
            "nerd_requests",
            "HTTP requests by route template and status (unknown paths: 'unmatched').",
            ("path", "status"),
            registry=self.registry,
        )
        self.errors = Counter("nerd_errors", "Failed requests by kind.", ("kind",), registry=self.registry)
        self.latency = Histogram(
            "nerd_request_seconds",
            "Request latency in seconds.",
            buckets=LATENCY_BUCKETS,
            registry=self.registry,
        )
        self.batch_size = Histogram(
            "nerd_batch_texts", "Texts per model call.", buckets=BATCH_BUCKETS, registry=self.registry
        )
        self.texts = Counter("nerd_texts", "Texts tagged.", registry=self.registry)
        self.reloads = Counter(
            "nerd_reloads", "Model reloads by outcome.", ("outcome",), registry=self.registry
        )

    def render(self) -> bytes:
        """The body of ``GET /metrics``: this process's values, or every worker's in multiprocess mode."""
        if os.environ.get(MULTIPROCESS_DIR):
            combined = CollectorRegistry()
            multiprocess.MultiProcessCollector(combined)
            return generate_latest(combined)
        return generate_latest(self.registry)
