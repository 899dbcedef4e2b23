"""Benchmark: the serving targets side by side, in one run (issue 18). Run it on a quiet machine.

Usage: python bench/serve.py BUNDLE_DIR [--checkpoint TRAINED_DIR] [--data ../shared/data]
    [--spacy-python PATH] [--seconds 10] [--json out/bench-serve.json]

Reports, with /proc/loadavg before and after:
- CoNLL dev (3,250 sentences) through the engine as ``nerd evaluate`` runs it: model time and end to end,
  spinning threads off (the default) and on, interleaved round by round;
- the same under one busy core (a bounded busy loop of this script's own), both spinning settings;
- one 14-20-word sentence in process, tokenisation and entities included: p50 and p99;
- transformers' ``pipeline`` on the same checkpoint (``--checkpoint``): sentences/s and the ratio;
- spaCy's ``en_core_web_sm`` (``--spacy-python``: a Python that has spaCy and the model, since spaCy's
  pins clash with nerd's): words/s and dev F1, its OntoNotes labels mapped to CoNLL's as the shared
  data's README does;
- ``nerd serve`` over loopback, one connection and 32: p50/p99 and requests/s, with ``wrk`` (a C client
  that leaves the cores to the server) when it is installed, else Python threads; with one worker, then
  with one worker per core.
"""

from __future__ import annotations

import argparse
import json
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from nerd.conll import read_conll
from nerd.evaluation.http_load import free_port, percentiles_ms, run_clients, wait_until_ready
from nerd.scoring import entity_scores
from nerd.service.entities import entities_in_text
from nerd.service.settings import ServiceSettings
from nerd.tagging.onnx_tagger import OnnxTagger, default_threads
from nerd.tokenization import tokenize

SPACY_TO_CONLL = {
    "PERSON": "PER",
    "GPE": "LOC",
    "LOC": "LOC",
    "FAC": "LOC",
    "ORG": "ORG",
    **dict.fromkeys(["NORP", "EVENT", "WORK_OF_ART", "PRODUCT", "LANGUAGE", "LAW"], "MISC"),
}
# Run by --spacy-python: the pipeline's components on the CoNLL tokens as given (spaCy 2 and 3 alike),
# BIO tags out, and its own timing.
SPACY_SCRIPT = """
import json, sys, time
import en_core_web_sm
import spacy
from spacy.tokens import Doc
nlp = en_core_web_sm.load()
sentences = json.load(open(sys.argv[1]))

def run(batch):
    stream = iter([Doc(nlp.vocab, words=words) for words in batch])
    for _, component in nlp.pipeline:
        piped = hasattr(component, "pipe")
        stream = component.pipe(stream, batch_size=256) if piped else map(component, stream)
    return list(stream)

run(sentences[:50])
tick = time.perf_counter()
docs = run(sentences)
tags = [[(t.ent_iob_ or "O") + ("-" + t.ent_type_ if t.ent_type_ else "") for t in doc] for doc in docs]
seconds = time.perf_counter() - tick
print(json.dumps({"seconds": seconds, "tags": tags, "version": spacy.__version__,
                  "model": nlp.meta["name"] + " " + nlp.meta["version"]}))
"""


def load_average() -> list[str]:
    return Path("/proc/loadavg").read_text().split()[:3]


def dev_passes(bundle: Path, sentences: list[list[str]], rounds: int) -> dict[str, Any]:
    """Dev model time with spinning off and on, interleaved; the same under one busy core."""
    settings = ServiceSettings(_env_file=None)
    engines = {spin: OnnxTagger(bundle, threads=default_threads(), spinning=spin) for spin in (False, True)}

    def one_pass(engine: OnnxTagger) -> tuple[float, float]:
        engine.session_seconds = 0.0
        tick = time.perf_counter()
        engine.analyse(sentences, batch_size=settings.max_batch_size, stride=settings.stride)
        return engine.session_seconds, time.perf_counter() - tick

    for engine in engines.values():
        engine.analyse(sentences[:64], batch_size=32)
    quiet: dict[bool, list[tuple[float, float]]] = {False: [], True: []}
    for _ in range(rounds):
        for spin, engine in engines.items():
            quiet[spin].append(one_pass(engine))
    busy: dict[bool, float] = {}
    loop = subprocess.Popen(
        [sys.executable, "-c", "import time\nend = time.time() + 120\nwhile time.time() < end: pass"]
    )
    try:
        time.sleep(0.5)
        for spin, engine in engines.items():
            busy[spin] = one_pass(engine)[0]
    finally:
        loop.kill()
        loop.wait()
    result = {}
    for spin in (False, True):
        model = statistics.median(m for m, _ in quiet[spin])
        result["spinning" if spin else "no_spinning"] = {
            "model_seconds": round(model, 3),
            "end_to_end_seconds": round(statistics.median(w for _, w in quiet[spin]), 3),
            "busy_core_model_seconds": round(busy[spin], 3),
            "busy_ratio": round(busy[spin] / model, 2),
        }
    return result


def single_sentences(bundle: Path, texts: list[str], limit: int = 600) -> dict[str, Any]:
    """One 14-20-word sentence at a time, text in, entities out (spinning off, as served)."""
    engine = OnnxTagger(bundle, threads=default_threads())
    chosen = [text for text in texts if 14 <= len(text.split()) <= 20][:limit]

    def tag(text: str) -> None:
        words = tokenize(text)
        (predicted,) = engine.analyse([[w.text for w in words]], batch_size=1)
        entities_in_text(text, words, predicted)

    for text in chosen[:50]:
        tag(text)
    seconds = []
    for text in chosen:
        tick = time.perf_counter()
        tag(text)
        seconds.append(time.perf_counter() - tick)
    return {"sentences": len(chosen), **percentiles_ms(seconds)}


def ours_on_dev(bundle: Path, sentences: list[list[str]], gold: list[list[str]]) -> dict[str, Any]:
    settings = ServiceSettings(_env_file=None)
    engine = OnnxTagger(bundle, threads=default_threads())
    engine.analyse(sentences[:64], batch_size=32)
    tick = time.perf_counter()
    predicted = engine.analyse(sentences, batch_size=settings.max_batch_size, stride=settings.stride)
    seconds = time.perf_counter() - tick
    words = sum(len(s) for s in sentences)
    return {
        "sentences_per_s": round(len(sentences) / seconds, 1),
        "words_per_s": round(words / seconds),
        "f1": entity_scores(gold, [p.tags for p in predicted])["micro"]["f1"],
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


def spacy_on_dev(python: Path, sentences: list[list[str]], gold: list[list[str]]) -> dict[str, Any]:
    with tempfile.TemporaryDirectory() as folder:
        data = Path(folder) / "sentences.json"
        data.write_text(json.dumps(sentences))
        done = subprocess.run([str(python), "-c", SPACY_SCRIPT, str(data)], capture_output=True, text=True)
    if done.returncode != 0:
        raise SystemExit(f"{python} could not run spaCy's en_core_web_sm:\n{done.stderr[-2000:]}")
    answer = json.loads(done.stdout.strip().splitlines()[-1])
    mapped = [[_conll_tag(tag) for tag in tags] for tags in answer["tags"]]
    words = sum(len(s) for s in sentences)
    return {
        "spacy": answer["version"],
        "model": answer["model"],
        "words_per_s": round(words / answer["seconds"]),
        "f1": entity_scores(gold, mapped)["micro"]["f1"],
    }


def _conll_tag(tag: str) -> str:
    prefix, _, kind = tag.partition("-")
    return f"{prefix}-{SPACY_TO_CONLL[kind]}" if kind in SPACY_TO_CONLL else "O"


def _wrk(url: str, connections: int, seconds: float, script: Path) -> dict[str, Any]:
    duration = f"-d{max(1, round(seconds))}s"
    out = subprocess.run(
        ["wrk", "-t1", f"-c{connections}", duration, "--latency", "-s", str(script), url],
        capture_output=True,
        text=True,
        check=True,
    ).stdout

    def latency(label: str) -> float | None:
        found = re.search(rf"{label}%\s+([\d.]+)(us|ms|s)\b", out)
        if found is None:
            return None
        return round(float(found.group(1)) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[found.group(2)], 3)

    rate = re.search(r"Requests/sec:\s+([\d.]+)", out)
    errors = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    return {
        "client": "wrk",
        "connections": connections,
        "p50_ms": latency("50"),
        "p99_ms": latency("99"),
        "requests_per_s": float(rate.group(1)) if rate else None,
        "non_2xx": int(errors.group(1)) if errors else 0,
        "socket_errors": socket_errors.group(1) if socket_errors else None,
    }


WRK_SCRIPT = """
local texts = {}
for line in io.lines("%s") do texts[#texts + 1] = line end
local i = 0
request = function()
  i = i %% #texts + 1
  local body = '{"text": "' .. texts[i]:gsub('\\\\', '\\\\\\\\'):gsub('"', '\\\\"') .. '"}'
  return wrk.format("POST", "/v1/entities", {["Content-Type"] = "application/json"}, body)
end
"""


def over_http(bundle: Path, texts: list[str], seconds: float, workers: int = 1) -> dict[str, Any]:
    port = free_port()
    nerd = str(Path(sys.executable).with_name("nerd"))
    server = subprocess.Popen(
        [nerd, "serve", "--model", str(bundle), "--port", str(port), "--workers", str(workers)],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    try:
        url = f"http://127.0.0.1:{port}"
        wait_until_ready(url)
        if shutil.which("wrk"):
            with tempfile.TemporaryDirectory() as folder:
                lines = Path(folder) / "texts.txt"
                lines.write_text("\n".join(texts) + "\n")
                script = Path(folder) / "post.lua"
                script.write_text(WRK_SCRIPT % lines)
                _wrk(url, 1, 3, script)
                return {"one": _wrk(url, 1, seconds, script), "thirty_two": _wrk(url, 32, seconds, script)}
        run_clients(url, texts, 1, requests_each=50)
        one = run_clients(url, texts, 1, seconds=seconds)
        many = run_clients(url, texts, 32, seconds=seconds)
        return {
            "one": {"client": "python threads", **one},
            "thirty_two": {"client": "python threads", **many},
        }
    finally:
        server.terminate()
        server.wait(timeout=20)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", type=Path)
    parser.add_argument("--checkpoint", type=Path, help="the trained directory, for the pipeline comparison")
    parser.add_argument("--data", type=Path, default=Path("../shared/data"))
    parser.add_argument("--spacy-python", type=Path, help="a Python with spaCy and en_core_web_sm")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--seconds", type=float, default=10.0, help="length of each HTTP run")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args()
    valid = args.data / "conll2003" / "valid.txt"
    if not valid.is_file():
        sys.stderr.write(f"shared data not found under {args.data}\n")
        return 2
    corpus = read_conll(valid).sentences
    sentences = [list(s.tokens) for s in corpus]
    gold = [list(s.tags) for s in corpus]
    texts = [" ".join(words) for words in sentences]
    report: dict[str, Any] = {
        "bundle": str(args.bundle),
        "cores": default_threads(),
        "load_before": load_average(),
    }

    def show(key: str, value: Any) -> None:
        report[key] = value
        sys.stdout.write(f"{key}: {json.dumps(value)}\n")
        sys.stdout.flush()

    show("dev", dev_passes(args.bundle, sentences, args.rounds))
    show("single_sentence", single_sentences(args.bundle, texts))
    show("ours", ours_on_dev(args.bundle, sentences, gold))
    if args.checkpoint:
        theirs = pipeline_throughput(args.checkpoint, texts)
        show(
            "pipeline",
            {"sentences_per_s": theirs, "ratio": round(report["ours"]["sentences_per_s"] / theirs, 2)},
        )
    if args.spacy_python:
        show("spacy", spacy_on_dev(args.spacy_python, sentences, gold))
    show("http", over_http(args.bundle, texts, args.seconds))
    if default_threads() > 1:
        # One worker per core, one thread each: the event loops' work spreads over the cores too.
        workers = default_threads()
        show(f"http_{workers}_workers", over_http(args.bundle, texts, args.seconds, workers=workers))
    show("load_after", load_average())
    if args.json:
        args.json.parent.mkdir(parents=True, exist_ok=True)
        args.json.write_text(json.dumps(report, indent=2) + "\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
