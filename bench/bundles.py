"""Benchmark: two or more bundles side by side on the serving engine (an export recipe against another).

Usage: python bench/bundles.py BUNDLE_DIR BUNDLE_DIR... [--data CONLL] [--rounds 5] [--singles 300]

Loads every bundle, then alternates them round by round (A, B, A, B, ...) so that all see the same
machine: the whole file in batches of 32 (time inside onnxruntime and end to end) and single sentences
(end to end, tokenisation and decoding included). Prints medians, each bundle's ratio to the first,
and /proc/loadavg before and after. Run it on a quiet machine.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from nerd.conll import read_conll
from nerd.tagging.onnx_tagger import OnnxTagger, default_threads


def _load() -> list[str]:
    with open("/proc/loadavg") as stream:
        return stream.read().split()[:3]


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundles", type=Path, nargs="+")
    parser.add_argument("--data", type=Path, default=Path("../shared/data/conll2003/valid.txt"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--singles", type=int, default=300, help="sentences timed one at a time")
    arguments = parser.parse_args()

    load_before = _load()
    sentences = [list(s.tokens) for s in read_conll(arguments.data).sentences]
    engines = {str(path): OnnxTagger(path, threads=default_threads()) for path in arguments.bundles}
    for engine in engines.values():
        engine.analyse(sentences[:64], batch_size=32)
    model: dict[str, list[float]] = {name: [] for name in engines}
    batched: dict[str, list[float]] = {name: [] for name in engines}
    single: dict[str, list[float]] = {name: [] for name in engines}
    for _ in range(arguments.rounds):
        for name, engine in engines.items():
            engine.session_seconds = 0.0
            tick = time.perf_counter()
            engine.analyse(sentences, batch_size=32)
            batched[name].append(time.perf_counter() - tick)
            model[name].append(engine.session_seconds)
            for sentence in sentences[: arguments.singles]:
                tick = time.perf_counter()
                engine.analyse([sentence], batch_size=1)
                single[name].append(time.perf_counter() - tick)
    first = str(arguments.bundles[0])
    rows = {}
    for name in engines:
        rows[name] = {
            "model_seconds_median": round(statistics.median(model[name]), 3),
            "batched_seconds_median": round(statistics.median(batched[name]), 3),
            "single_ms_p50": round(statistics.median(single[name]) * 1000, 3),
            "model_ratio_to_first": round(
                statistics.median(model[name]) / statistics.median(model[first]), 3
            ),
            "single_ratio_to_first": round(
                statistics.median(single[name]) / statistics.median(single[first]), 3
            ),
        }
    result = {
        "loadavg_before": load_before,
        "loadavg_after": _load(),
        "sentences": len(sentences),
        "rounds": arguments.rounds,
        "bundles": rows,
    }
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
