"""Benchmark: what Viterbi decoding costs the serving path, side by side with arg-max.

Usage: python bench/decoding.py BUNDLE_DIR [--data ../shared/data/conll2003/valid.txt] [--rounds 5]

Runs the serving engine's ``analyse`` (tokenised words in, labels and probabilities out) over the whole
file in batches of 32 and over single sentences, alternating the two decodings round by round (A, B,
A, B, ...) so that both see the same machine; prints the medians and the Viterbi / arg-max ratio.
Target: Viterbi within 10% of arg-max. Run it on a quiet machine and write /proc/loadavg beside it.
"""

from __future__ import annotations

import argparse
import json
import statistics
import time
from pathlib import Path

from nerd.conll import read_conll
from nerd.decoding import DECODINGS
from nerd.tagging.onnx_tagger import OnnxTagger, default_threads


def main() -> None:
    parser = argparse.ArgumentParser(
        description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--data", type=Path, default=Path("../shared/data/conll2003/valid.txt"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--singles", type=int, default=300, help="sentences timed one at a time")
    arguments = parser.parse_args()

    sentences = [list(s.tokens) for s in read_conll(arguments.data).sentences]
    engine = OnnxTagger(arguments.bundle, threads=default_threads())
    engine.analyse(sentences[:64], batch_size=32)
    batched: dict[str, list[float]] = {d: [] for d in DECODINGS}
    single: dict[str, list[float]] = {d: [] for d in DECODINGS}
    for _ in range(arguments.rounds):
        for decoding in DECODINGS:
            tick = time.perf_counter()
            engine.analyse(sentences, batch_size=32, decoding=decoding)
            batched[decoding].append(time.perf_counter() - tick)
            for sentence in sentences[: arguments.singles]:
                tick = time.perf_counter()
                engine.analyse([sentence], batch_size=1, decoding=decoding)
                single[decoding].append(time.perf_counter() - tick)
    with open("/proc/loadavg") as stream:
        load = stream.read().split()[:3]
    result = {
        "loadavg": load,
        "sentences": len(sentences),
        "batched_seconds_median": {d: round(statistics.median(v), 4) for d, v in batched.items()},
        "single_ms_p50": {d: round(statistics.median(v) * 1000, 3) for d, v in single.items()},
    }
    result["batched_ratio"] = round(
        result["batched_seconds_median"]["viterbi"] / result["batched_seconds_median"]["argmax"], 3
    )
    result["single_ratio"] = round(result["single_ms_p50"]["viterbi"] / result["single_ms_p50"]["argmax"], 3)
    print(json.dumps(result, indent=2))  # noqa: T201


if __name__ == "__main__":
    main()
