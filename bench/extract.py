"""Benchmark of ``nerd extract`` (issue 37's targets), printed as JSON with the CPU and the load average
before each part. A benchmark, not a test: run it on a quiet machine with nothing else of ours running.

1. Throughput, interleaved rounds (A, B, C, A, B, C), medians, on BBC articles up to 20,000 sentences
   and on CoNLL dev as raw text (a document a sentence, its tokens joined by spaces):
   - in process: the bundle's extractor (what each worker holds: tokenizer, model, offsets) with 2
     onnxruntime threads over the same texts, 64 a call: the model's own documents/s;
   - ``nerd extract --workers 2 --threads 1``: the whole command, start to end (its process start, the
     reading, the writing), target >= 0.9x in process;
   - ``nerd extract --engine ray --workers 2`` (a local Ray with 2 CPUs, started by the command),
     target >= 0.8x ``--workers 2``.
2. F1 of the extracted entities against CoNLL dev's gold spans (character offsets into the joined
   text), beside ``nerd evaluate``'s raw-text figure for the bundle: they should be equal.
3. With ``--million``: peak RSS of ``nerd extract --workers 2`` (the command and its workers summed)
   over 1,000,000 generated short documents, sampled as the run goes, with the RSS at each quarter of
   the archive: target <= 1.5 GB, and flat.

Usage: python bench/extract.py [--data ../shared/data] [--model models/en-conll-minilm-int8]
       [--rounds 2] [--million | --only-million] [--count 1000000] [--json out/extract-bench.json]
"""

from __future__ import annotations

import argparse
import json
import os
import random
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path
from typing import Any

from nerd.atomic import atomic_write_text
from nerd.conll import read_conll
from nerd.evaluation.http_load import cpu_and_load
from nerd.evaluation.predictors import load_predictor
from nerd.evaluation.raw_text import joined, raw_text_evaluation
from nerd.extraction.extractor import DocumentExtractor
from nerd.spans import iob2_to_spans
from nerd.tokenization import split_sentences

NERD = [sys.executable, "-c", "from nerd.cli.main import main; main()"]


def bbc_documents(data: Path, sentences: int) -> list[str]:
    """BBC articles, in file order, until they hold ``sentences`` sentences."""
    texts, count = [], 0
    with (data / "bbc" / "bbc_fulltext.jsonl").open(encoding="utf-8") as stream:
        for line in stream:
            text = json.loads(line)["text"]
            texts.append(text)
            count += len(split_sentences(text))
            if count >= sentences:
                break
    return texts


def write_jsonl(path: Path, texts: list[str]) -> Path:
    with path.open("w", encoding="utf-8") as stream:
        for text in texts:
            stream.write(json.dumps({"text": text}, ensure_ascii=False) + "\n")
    return path


def in_process(extractor: DocumentExtractor, texts: list[str]) -> float:
    tick = time.perf_counter()
    for start in range(0, len(texts), 64):
        extractor.entities(texts[start : start + 64])
    return time.perf_counter() - tick


def command(source: Path, model: Path, out: Path, *options: str) -> tuple[float, dict[str, Any]]:
    tick = time.perf_counter()
    run = [*NERD, "extract", str(source), "--model", str(model), "--out", str(out), *options]
    subprocess.run(run, check=True, capture_output=True)
    seconds = time.perf_counter() - tick
    return seconds, json.loads((out / "manifest.json").read_text())


def throughput(name: str, texts: list[str], model: Path, rounds: int, work: Path) -> dict[str, Any]:
    source = write_jsonl(work / f"{name}.jsonl", texts)
    extractor = DocumentExtractor(model, threads=2)
    extractor.entities(texts[:8])  # warm
    runs: dict[str, list[float]] = {"in_process": [], "workers_2": [], "ray_2": []}
    inside: dict[str, list[float]] = {"workers_2": [], "ray_2": []}
    loads = []
    for round_number in range(rounds):
        loads.append(cpu_and_load())
        runs["in_process"].append(in_process(extractor, texts))
        for key, options in (
            ("workers_2", ["--workers", "2", "--threads", "1"]),
            ("ray_2", ["--engine", "ray", "--workers", "2", "--threads", "1"]),
        ):
            seconds, manifest = command(source, model, work / f"{name}-{key}-{round_number}", *options)
            runs[key].append(seconds)
            inside[key].append(manifest["seconds_this_run"])
    rate = {key: round(len(texts) / statistics.median(values), 1) for key, values in runs.items()}
    return {
        "documents": len(texts),
        "cpu_and_load_before_rounds": loads,
        "seconds": {key: [round(v, 2) for v in values] for key, values in runs.items()},
        "seconds_inside_extract": inside,
        "documents_per_s": rate,
        "workers_2_over_in_process": round(rate["workers_2"] / rate["in_process"], 3),
        "ray_over_workers_2": round(rate["ray_2"] / rate["workers_2"], 3),
        "targets": {"workers_2_over_in_process": ">= 0.9", "ray_over_workers_2": ">= 0.8"},
    }


def f1_against_gold(data: Path, model: Path, out: Path) -> dict[str, Any]:
    """The extracted entities of CoNLL dev (as raw text) scored as exact character spans."""
    corpus = read_conll(data / "conll2003" / "valid.txt")
    gold_spans, texts = [], []
    for sentence in corpus.sentences:
        text, offsets = joined(sentence.tokens)
        texts.append(text)
        gold_spans.append(
            {
                (offsets[s.start][0], offsets[s.end - 1][1], s.label)
                for s in iob2_to_spans(list(sentence.tags))
            }
        )
    predicted = []
    for shard in json.loads((out / "manifest.json").read_text())["shards"]:
        for line in (out / shard["file"]).read_text(encoding="utf-8").splitlines():
            predicted.append({(e["start"], e["end"], e["label"]) for e in json.loads(line)["entities"]})
    assert len(predicted) == len(gold_spans), "one record per sentence"
    found = sum(len(p) for p in predicted)
    expected = sum(len(g) for g in gold_spans)
    right = sum(len(p & g) for p, g in zip(predicted, gold_spans, strict=True))
    precision, recall = right / found, right / expected
    extract_f1 = 2 * precision * recall / (precision + recall)
    sentences = [list(s.tokens) for s in corpus.sentences]
    gold = [list(s.tags) for s in corpus.sentences]
    evaluate = raw_text_evaluation(sentences, gold, load_predictor(model, threads=2), {})
    return {
        "sentences": len(texts),
        "extract_f1": round(extract_f1, 4),
        "evaluate_raw_text_f1": round(evaluate["scores"]["micro"]["f1"], 4),
        "equal": round(extract_f1, 4) == round(evaluate["scores"]["micro"]["f1"], 4),
    }


def tree_rss(pid: int) -> int:
    """Resident bytes of a process and all its descendants."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                parent = int(Path(f"/proc/{entry}/stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                continue
            children.setdefault(parent, []).append(int(entry))
    total, stack = 0, [pid]
    while stack:
        current = stack.pop()
        stack.extend(children.get(current, []))
        try:
            for line in Path(f"/proc/{current}/status").read_text().splitlines():
                if line.startswith("VmRSS:"):
                    total += int(line.split()[1]) * 1024
        except OSError:
            continue
    return total


def million(model: Path, work: Path, count: int) -> dict[str, Any]:
    words = "the of Reuters said Monday in Paris London Ford Alma Borel Quenby shares rose percent".split()
    rng = random.Random(37)
    source = work / "short.jsonl"
    with source.open("w") as stream:
        for _ in range(count):
            stream.write(json.dumps({"text": " ".join(rng.choices(words, k=rng.randint(4, 12)))}) + "\n")
    out = work / "short-out"
    before = cpu_and_load()
    run = [*NERD, "extract", str(source), "--model", str(model), "--out", str(out), "--workers", "2"]
    tick = time.perf_counter()
    process = subprocess.Popen(run, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    samples: list[tuple[float, int, int]] = []  # (seconds, records done, rss)
    stop = threading.Event()

    def sample() -> None:
        while not stop.is_set():
            try:
                done = sum(
                    s["read"] for s in json.loads((out / ".extract-journal.json").read_text())["shards"]
                )
            except (OSError, ValueError, KeyError):
                done = 0
            samples.append((time.perf_counter() - tick, done, tree_rss(process.pid)))
            stop.wait(0.5)

    sampler = threading.Thread(target=sample)
    sampler.start()
    process.wait()
    stop.set()
    sampler.join()
    seconds = time.perf_counter() - tick
    quarters = {}
    for quarter in (1, 2, 3, 4):
        reached = [rss for _, done, rss in samples if done >= count * quarter // 4 - 10_000]
        quarters[f"{quarter * 25}%"] = round(max(reached[:5] or [0]) / 2**20)
    return {
        "documents": count,
        "cpu_and_load_before": before,
        "returncode": process.returncode,
        "seconds": round(seconds, 1),
        "peak_rss_mib": round(max(rss for _, _, rss in samples) / 2**20),
        "rss_mib_at": quarters,
        "target_peak_rss_mib": "<= 1536",
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--model", type=Path, default=Path("models/en-conll-minilm-int8"))
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--million", action="store_true", help="also the 1,000,000-document RSS run")
    parser.add_argument("--only-million", action="store_true", help="the RSS run alone")
    parser.add_argument("--count", type=int, default=1_000_000, help="documents of the RSS run")
    parser.add_argument("--json", type=Path)
    arguments = parser.parse_args()
    report: dict[str, Any] = {}
    with tempfile.TemporaryDirectory(prefix="nerd-extract-bench-") as folder:
        work = Path(folder)
        if not arguments.only_million:
            bbc = bbc_documents(arguments.data, 20_000)
            report["bbc"] = throughput("bbc", bbc, arguments.model, arguments.rounds, work)
            report["bbc"]["sentences"] = sum(len(split_sentences(text)) for text in bbc)
            conll = read_conll(arguments.data / "conll2003" / "valid.txt")
            dev = [joined(s.tokens)[0] for s in conll.sentences]
            report["conll_dev"] = throughput("dev", dev, arguments.model, arguments.rounds, work)
            dev_out = work / "dev-workers_2-0"
            report["conll_dev_f1"] = f1_against_gold(arguments.data, arguments.model, dev_out)
        if arguments.million or arguments.only_million:
            report["million"] = million(arguments.model, work, arguments.count)
    text = json.dumps(report, indent=2)
    sys.stdout.write(text + "\n")
    if arguments.json:
        atomic_write_text(arguments.json, text + "\n")


if __name__ == "__main__":
    main()
