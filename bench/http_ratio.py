"""One connection: what HTTP adds to a lone sentence, as a ratio measured side by side. Run it on a quiet
machine.

Usage: python bench/http_ratio.py BUNDLE_DIR [--data ../shared/data] [--rounds 5] [--seconds 8]
    [--json out/http-ratio.json]

The same 300 CoNLL dev sentences of 14-20 words (joined by spaces) go, round after round, interleaved:
- in process: nerd's tokenizer, the engine as ``nerd serve`` configures it (one sentence a call) and
  the entities with their offsets: p50 over the sentences;
- over loopback to ``nerd serve`` (one worker, the same bundle), one connection, by ``wrk`` (a C client,
  so the client's own time stays small): p50 over ``--seconds``.
The ratio is HTTP p50 / in-process p50, the median over the rounds, with the CPU and the load average
before each round.
"""

from __future__ import annotations

import argparse
import json
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nerd.conll import read_conll
from nerd.evaluation.http_load import cpu_and_load, free_port, wait_until_ready
from nerd.service.entities import entities_in_text
from nerd.service.settings import ServiceSettings
from nerd.tagging.onnx_tagger import OnnxTagger
from nerd.tokenization import tokenize

sys.path.insert(0, str(Path(__file__).parent))
from serve import WRK_SCRIPT, _wrk  # a sibling script, not a package


def in_process(engine: OnnxTagger, texts: list[str], settings: ServiceSettings) -> float:
    """p50 milliseconds of one text through the service's path without HTTP."""
    seconds = []
    for text in texts:
        tick = time.perf_counter()
        words = tokenize(text)
        (predicted,) = engine.analyse(
            [[word.text for word in words]],
            aggregation=settings.aggregation,
            stride=settings.stride,
            decoding=settings.decoding,
        )
        entities_in_text(text, words, predicted)
        seconds.append(time.perf_counter() - tick)
    return round(1000 * statistics.median(seconds), 3)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--seconds", type=float, default=8.0)
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    if not shutil.which("wrk"):
        sys.stderr.write("wrk is not installed (Debian: apt install wrk)\n")
        return 2
    valid = args.data / "conll2003" / "valid.txt"
    if not valid.is_file():
        sys.stderr.write(f"shared data not found under {args.data}\n")
        return 2
    texts = [" ".join(s.tokens) for s in read_conll(valid).sentences if 14 <= len(s.tokens) <= 20][:300]
    settings = ServiceSettings(_env_file=None, model_dir=args.bundle)
    engine = OnnxTagger(args.bundle)
    in_process(engine, texts[:50], settings)  # warm-up
    port = free_port()
    nerd = str(Path(sys.executable).with_name("nerd"))
    server = subprocess.Popen(
        [nerd, "serve", "--model", str(args.bundle), "--port", str(port), "--workers", "1"],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    report: dict[str, Any] = {"bundle": str(args.bundle), "sentences": len(texts), "rounds": []}
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url)
        with tempfile.TemporaryDirectory() as folder:
            lines = Path(folder) / "texts.txt"
            lines.write_text("\n".join(texts) + "\n")
            script = Path(folder) / "post.lua"
            script.write_text(WRK_SCRIPT % lines)
            _wrk(url, 1, 2, script)  # warm-up
            for _ in range(args.rounds):
                machine = cpu_and_load()
                local = in_process(engine, texts, settings)
                remote = _wrk(url, 1, args.seconds, script)
                row = {"machine": machine, "in_process_p50_ms": local, "http": remote}
                row["ratio"] = round(remote["p50_ms"] / local, 3) if remote["p50_ms"] else None
                report["rounds"].append(row)
                sys.stdout.write(json.dumps(row) + "\n")
                sys.stdout.flush()
    finally:
        server.terminate()
        server.wait(timeout=20)
    ratios = [row["ratio"] for row in report["rounds"] if row["ratio"] is not None]
    report["median_ratio"] = statistics.median(ratios) if ratios else None
    report["median_in_process_p50_ms"] = statistics.median(r["in_process_p50_ms"] for r in report["rounds"])
    report["median_http_p50_ms"] = statistics.median(
        r["http"]["p50_ms"] for r in report["rounds"] if r["http"]["p50_ms"]
    )
    sys.stdout.write(json.dumps({k: v for k, v in report.items() if k != "rounds"}) + "\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
