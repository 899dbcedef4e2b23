"""Prometheus metrics in the text exposition format, kept in process (no client library on this path)."""

from __future__ import annotations

import bisect
import threading
from collections import defaultdict
from collections.abc import Sequence

LATENCY_BUCKETS = (0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0)
BATCH_BUCKETS = (1, 2, 4, 8, 16, 32, 64, 128, 256)


def _labels(names: Sequence[str], values: Sequence[str]) -> str:
    if not names:
        return ""
    escaped = (v.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") for v in values)
    return "{" + ",".join(f'{n}="{v}"' for n, v in zip(names, escaped, strict=True)) + "}"


class Counter:
    def __init__(self, name: str, help_text: str, label_names: Sequence[str] = ()) -> None:
        self.name, self.help, self.label_names = name, help_text, tuple(label_names)
        self.values: dict[tuple[str, ...], float] = defaultdict(float)
        self.lock = threading.Lock()

    def inc(self, *labels: str, amount: float = 1.0) -> None:
        with self.lock:
            self.values[labels] += amount

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        with self.lock:
            for labels, value in sorted(self.values.items()):
                lines.append(f"{self.name}{_labels(self.label_names, labels)} {value:g}")
        return lines


class Histogram:
    def __init__(self, name: str, help_text: str, buckets: Sequence[float]) -> None:
        self.name, self.help, self.buckets = name, help_text, tuple(buckets)
        self.counts = [0] * (len(self.buckets) + 1)
        self.total = 0.0
        self.lock = threading.Lock()

    def observe(self, value: float) -> None:
        with self.lock:
            self.counts[bisect.bisect_left(self.buckets, value)] += 1
            self.total += value

    def render(self) -> list[str]:
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        with self.lock:
            running = 0
            for bound, count in zip(self.buckets, self.counts, strict=False):
                running += count
                lines.append(f'{self.name}_bucket{{le="{bound:g}"}} {running}')
            running += self.counts[-1]
            lines.append(f'{self.name}_bucket{{le="+Inf"}} {running}')
            lines.append(f"{self.name}_sum {self.total:g}")
            lines.append(f"{self.name}_count {running}")
        return lines


class ServiceMetrics:
    """The service's metrics; ``render`` is the body of ``GET /metrics``."""

    def __init__(self) -> None:
        self.requests = Counter(
            "nerd_requests_total", "HTTP requests by route and status.", ("path", "status")
        )
        self.errors = Counter("nerd_errors_total", "Failed requests by kind.", ("kind",))
        self.latency = Histogram("nerd_request_seconds", "Request latency in seconds.", LATENCY_BUCKETS)
        self.batch_size = Histogram("nerd_batch_texts", "Texts per model call.", BATCH_BUCKETS)
        self.texts = Counter("nerd_texts_total", "Texts tagged.")
        self.reloads = Counter("nerd_reloads_total", "Model reloads by outcome.", ("outcome",))

    def render(self) -> str:
        parts = (self.requests, self.errors, self.latency, self.batch_size, self.texts, self.reloads)
        return "\n".join(line for part in parts for line in part.render()) + "\n"
