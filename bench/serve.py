"""Benchmark: the serving path, in process and over HTTP, against transformers' pipeline.

Usage: python bench/serve.py BUNDLE_DIR --checkpoint TRAINED_DIR [--data ../shared/data] [--seconds 60]
    [--json out/bench-serve.json]

Targets (MiniLM int8, 2 cores): one sentence p50 <= 3 ms in process and <= 8 ms over loopback HTTP;
throughput >= 5x transformers' ``pipeline("token-classification")`` on the same checkpoint; a
32-client load test with 0 errors and flat memory. Sentences are the CoNLL dev set's, joined as text.
"""

from __future__ import annotations

import argparse
import http.client
import json
import os
import socket
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

from nerd.conll import read_conll
from nerd.evaluation.http_load import percentiles_ms, run_clients
from nerd.service.engine import OnnxTagger, default_threads
from nerd.service.entities import entities_in_text
from nerd.tokenization import tokenize


def in_process(bundle: Path, texts: list[str], repeats: int) -> dict[str, Any]:
    engine = OnnxTagger(bundle, threads=default_threads())

    def tag(batch: list[str]) -> None:
        split = [tokenize(text) for text in batch]
        predictions = engine.analyse([[w.text for w in words] for words in split], batch_size=32)
        for text, words, predicted in zip(batch, split, predictions, strict=True):
            entities_in_text(text, words, predicted)

    for text in texts[:50]:
        tag([text])
    single = []
    for text in texts[:repeats]:
        tick = time.perf_counter()
        tag([text])
        single.append(time.perf_counter() - tick)
    tick = time.perf_counter()
    for at in range(0, len(texts), 32):
        tag(texts[at : at + 32])
    seconds = time.perf_counter() - tick
    return {
        "single_sentence": percentiles_ms(single),
        "batched_32_sentences_per_s": round(len(texts) / seconds, 1),
    }


def pipeline_throughput(checkpoint: Path, texts: list[str]) -> float:
    import torch
    from transformers import pipeline

    torch.set_num_threads(default_threads())
    tagger = pipeline(
        "token-classification", model=str(checkpoint), aggregation_strategy="first", device="cpu"
    )
    tagger(texts[:20], batch_size=32)
    tick = time.perf_counter()
    tagger(texts, batch_size=32)
    return round(len(texts) / (time.perf_counter() - tick), 1)


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return round(int(line.split()[1]) / 1024, 1)
    return float("nan")


def over_http(bundle: Path, texts: list[str], load_seconds: float) -> dict[str, Any]:
    port = free_port()
    server = subprocess.Popen(
        [str(Path(sys.executable).with_name("nerd")), "serve", "--model", str(bundle), "--port", str(port)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        env={**os.environ, "NERD_MAX_WAIT_MS": os.environ.get("NERD_MAX_WAIT_MS", "1")},
    )
    try:
        deadline = time.monotonic() + 60
        while time.monotonic() < deadline:
            try:
                probe = http.client.HTTPConnection("127.0.0.1", port, timeout=1)
                probe.request("GET", "/readyz")
                if probe.getresponse().status == 200:
                    break
            except OSError:
                time.sleep(0.2)
        url = f"http://127.0.0.1:{port}"
        result: dict[str, Any] = {"single_sentence": run_clients(url, texts, 1, requests_each=300)}
        result["concurrency"] = [run_clients(url, texts, c, seconds=10.0) for c in (1, 8, 32)]
        before = rss_mb(server.pid)
        load = run_clients(url, texts, 32, seconds=load_seconds)
        load.update({"seconds": load_seconds, "rss_mb_before": before, "rss_mb_after": rss_mb(server.pid)})
        result["load_test"] = load
        return result
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--checkpoint", type=Path, help="the trained directory, for the pipeline comparison")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--seconds", type=float, default=60.0, help="length of the 32-client load test")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    valid = args.data / "conll2003" / "valid.txt"
    if not valid.is_file():
        sys.stderr.write(f"shared data not found under {args.data}\n")
        return 2
    texts = [" ".join(s.tokens) for s in read_conll(valid).sentences]
    report: dict[str, Any] = {"bundle": str(args.bundle), "cores": default_threads(), "sentences": len(texts)}
    report["in_process"] = in_process(args.bundle, texts, 500)
    sys.stdout.write(json.dumps(report["in_process"]) + "\n")
    if args.checkpoint:
        ours = report["in_process"]["batched_32_sentences_per_s"]
        theirs = pipeline_throughput(args.checkpoint, texts)
        report["transformers_pipeline_sentences_per_s"] = theirs
        report["throughput_ratio"] = round(ours / theirs, 2)
        sys.stdout.write(f"pipeline {theirs} sentences/s; ratio {report['throughput_ratio']}\n")
    report["http"] = over_http(args.bundle, texts, args.seconds)
    sys.stdout.write(json.dumps(report["http"]) + "\n")
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
