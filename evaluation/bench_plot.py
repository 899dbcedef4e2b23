"""The PNG of ``nerd bench``: latency and throughput against batch size (and concurrency over HTTP)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from nerd.plotting import pyplot, save_png


def plot_bench(report: dict[str, Any], path: Path) -> None:
    plt = pyplot()
    http = report.get("http") or []
    columns = 3 if http else 2
    figure, axes = plt.subplots(1, columns, figsize=(5 * columns, 4), constrained_layout=True)
    series: dict[tuple[str, int], list[dict[str, Any]]] = {}
    for row in report["in_process"]:
        series.setdefault((row["backend"], row["words"]), []).append(row)
    for (backend, words), rows in sorted(series.items()):
        rows.sort(key=lambda r: r["batch_size"])
        sizes = [r["batch_size"] for r in rows]
        axes[0].plot(sizes, [r["p50_ms"] for r in rows], marker="o", label=f"{backend}, {words} words")
        axes[1].plot(
            sizes, [r["sentences_per_s"] for r in rows], marker="o", label=f"{backend}, {words} words"
        )
    for axis, label in ((axes[0], "p50 latency per call (ms)"), (axes[1], "sentences / s")):
        axis.set_xscale("log", base=2)
        axis.set_yscale("log")
        axis.set_xlabel("batch size (sentences)")
        axis.set_ylabel(label)
        axis.grid(alpha=0.3)
    axes[1].legend(fontsize=6, loc="upper center", bbox_to_anchor=(0.5, -0.18), ncol=2)
    if http:
        clients = [r["clients"] for r in http]
        axes[2].plot(clients, [r["requests_per_s"] for r in http], marker="o", label="requests / s")
        twin = axes[2].twinx()
        twin.plot(clients, [r["p95_ms"] or 0 for r in http], marker="s", color="tab:red", label="p95 ms")
        axes[2].set_xlabel("concurrent clients (HTTP)")
        axes[2].set_ylabel("requests / s")
        twin.set_ylabel("p95 latency (ms)")
        axes[2].grid(alpha=0.3)
    figure.suptitle(f"nerd bench: {report['model']}")
    save_png(figure, path, dpi=120)
    plt.close(figure)
