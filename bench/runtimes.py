"""A second CPU runtime measured against onnxruntime, side by side in one process, interleaved.

Runtimes, each through nerd's own windows, stitching and Viterbi decoding (``WindowTagger``), so that
only the model call differs:
- ``ort-int8``: onnxruntime on an int8 bundle (what nerd ships);
- ``ov-int8-onnx``: OpenVINO reading that int8 ONNX as it is (recorded as failed if it cannot);
- ``ov-nncf-*``: OpenVINO on the fp32 bundle's ONNX quantised by NNCF (``ModelType.TRANSFORMER``) with
  calibration sentences, compiled with the default precision hint (bf16 where the CPU has it) and f32;
- ``ov-nncf-bounded``: the same with upper bounds on the dynamic dimensions (batch <= 64, length <= the
  window), which OpenVINO's CPU documentation says lets it plan memory ahead;
- ``ov-bundle``: what nerd ships, the int8 bundle's own OpenVINO model (``nerd export --openvino``) run
  by :class:`nerd.tagging.openvino_tagger.OpenVinoTagger` (static shapes, as ``ov-nncf-static``);
- ``ov-nncf-static``: one compiled model per static shape (the batch as it comes, the length padded up
  to a multiple of 8), compiled during the warm-up: no dynamic-shape work at run time, a little padding.
For each: dev model time (sorted batches of 32, the median of ``--rounds`` interleaved passes), one
sentence p50/p99 (14-20 words), dev micro F1, and whether a sentence's tags depend on its batch
neighbours. The CPU model and the load average are printed before each measurement.

Usage: python bench/runtimes.py --int8 DIR/onnx-int8 --fp32 DIR/onnx-fp32 --data dev.conll
       [--calibration FILE] [--rounds 3]
Needs ``openvino`` and ``nncf`` importable (a separate ``--target`` install on PYTHONPATH is enough).
"""

from __future__ import annotations

import argparse
import json
import statistics
import sys
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from nerd.bundle_checks import verified_bundle
from nerd.conll import read_conll
from nerd.evaluation.http_load import cpu_and_load
from nerd.model_bundle import MODEL_FILE, read_manifest
from nerd.scoring import entity_scores
from nerd.tagging.encoding import Window, WordEncoder, model_inputs, pad_token_id
from nerd.tagging.onnx_tagger import OnnxTagger, default_threads
from nerd.tagging.openvino_tagger import OpenVinoTagger as OpenVinoTagger_
from nerd.tagging.window_tagger import WindowTagger


def machine() -> str:
    facts = cpu_and_load()
    return f"{facts['cpu']}, load {facts['loadavg']}"


def resident_mib() -> float:
    """This process's resident memory (Linux), to see what each runtime's compiled models cost."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


class OpenVinoTagger(WindowTagger):
    """An OpenVINO compiled model behind nerd's windows and decoder."""

    def __init__(self, compiled: Any, bundle: Path) -> None:
        contents = verified_bundle(bundle)
        self.labels = list(contents.manifest.labels)
        self.encoder = WordEncoder(
            contents.files["tokenizer.json"],
            contents.manifest.max_length,
            shapes=contents.manifest.word_shapes is not None,
        )
        self.pad_id = pad_token_id(contents.files.get("config.json"), self.encoder)
        self.compiled = compiled
        self.request = compiled.create_infer_request()
        self.names = {port.any_name for port in compiled.inputs}
        self.session_seconds = 0.0

    def logits(self, windows: Sequence[Window]) -> np.ndarray:
        feed = model_inputs(windows, self.pad_id, self.names)
        tick = time.perf_counter()
        result = self.request.infer(feed)
        self.session_seconds += time.perf_counter() - tick
        return np.asarray(result[self.compiled.outputs[0]], dtype=np.float32)


class StaticShapeTagger(OpenVinoTagger):
    """One compiled model per (batch, length padded to a multiple of ``step``), compiled when first met."""

    def __init__(self, model: Any, core: Any, config: dict[str, str], bundle: Path, step: int = 8) -> None:
        self.model, self.core, self.config, self.step = model, core, config, step
        self.requests: dict[tuple[int, int], tuple[Any, Any]] = {}
        self.compile_seconds = 0.0  # summed over the shapes compiled: what a cold start would pay
        super().__init__(core.compile_model(model, "CPU", config), bundle)

    def logits(self, windows: Sequence[Window]) -> np.ndarray:
        longest = max(len(w) for w in windows)
        width = -(-longest // self.step) * self.step
        key = (len(windows), width)
        if key not in self.requests:
            shaped = self.model.clone()
            shaped.reshape({port.any_name: [len(windows), width] for port in shaped.inputs})
            tick = time.perf_counter()
            compiled = self.core.compile_model(shaped, "CPU", self.config)
            self.compile_seconds += time.perf_counter() - tick
            self.requests[key] = (compiled, compiled.create_infer_request())
        compiled, request = self.requests[key]
        feed = model_inputs(windows, self.pad_id, self.names, width)
        tick = time.perf_counter()
        result = request.infer(feed)
        self.session_seconds += time.perf_counter() - tick
        return np.asarray(result[compiled.outputs[0]], dtype=np.float32)[:, :longest]


def nncf_quantised(fp32: Path, calibration: list[list[str]], encoder: WordEncoder, pad_id: int) -> Any:
    import nncf
    import openvino as ov

    model = ov.Core().read_model(str(fp32 / MODEL_FILE))
    names = {port.any_name for port in model.inputs}
    windows = encoder.encode(calibration)
    batches = [windows[i : i + 32] for i in range(0, len(windows), 32)]
    dataset = nncf.Dataset(batches, lambda batch: model_inputs(batch, pad_id, names))
    return nncf.quantize(model, dataset, model_type=nncf.ModelType.TRANSFORMER, subset_size=len(batches) * 32)


def timed_pass(tagger: Any, sentences: list[list[str]]) -> tuple[float, list[list[str]]]:
    tagger.session_seconds = 0.0
    tags = tagger.tag(sentences, batch_size=32)
    return tagger.session_seconds, tags


def one_sentence(tagger: Any, sentences: list[list[str]]) -> dict[str, float]:
    pool = [s for s in sentences if 14 <= len(s) <= 20][:300]
    seconds = []
    for sentence in pool:
        tick = time.perf_counter()
        tagger.tag([sentence], batch_size=1)
        seconds.append(time.perf_counter() - tick)
    ordered = sorted(seconds)
    return {
        "p50_ms": round(1000 * ordered[len(ordered) // 2], 3),
        "p99_ms": round(1000 * ordered[min(len(ordered) - 1, int(0.99 * len(ordered)))], 3),
        "sentences": len(ordered),
    }


def neighbour_independent(tagger: Any, sentences: list[list[str]], batched: list[list[str]]) -> bool:
    """The first 300 sentences tagged one at a time give the tags the batched pass gave them."""
    return all(
        tagger.tag([s], batch_size=1)[0] == tags
        for s, tags in zip(sentences[:300], batched[:300], strict=True)
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--int8", type=Path, required=True)
    parser.add_argument("--fp32", type=Path, required=True)
    parser.add_argument("--data", type=Path, required=True)
    parser.add_argument("--calibration", type=Path, help="CoNLL file for NNCF. Default: --data.")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument(
        "--shipped-only",
        action="store_true",
        help="Only the two runtimes nerd ships: onnxruntime and the bundle's own OpenVINO model "
        "(nerd export --openvino), both from the --int8 bundle; no NNCF run here.",
    )
    parser.add_argument(
        "--json", type=Path, help="Also write the report here (NNCF's progress display may hold stdout)."
    )
    arguments = parser.parse_args()
    import openvino as ov

    corpus = read_conll(arguments.data)
    sentences = [list(s.tokens) for s in corpus.sentences]
    gold = [list(s.tags) for s in corpus.sentences]
    calibration = [list(s.tokens) for s in read_conll(arguments.calibration or arguments.data).sentences][
        :1000
    ]
    threads = default_threads()
    taggers: dict[str, Any] = {"ort-int8": OnnxTagger(arguments.int8, threads=threads)}
    report: dict[str, Any] = {
        "machine": machine(),
        "threads": threads,
        "openvino": ov.get_version(),
        "runtimes": {},
    }
    core = ov.Core()
    if read_manifest(arguments.int8).openvino is not None:
        taggers["ov-bundle"] = OpenVinoTagger_(arguments.int8, threads=threads)
    if arguments.shipped_only:
        return measure(taggers, report, sentences, gold, arguments)
    try:
        compiled = core.compile_model(core.read_model(str(arguments.int8 / MODEL_FILE)), "CPU")
        taggers["ov-int8-onnx"] = OpenVinoTagger(compiled, arguments.int8)
    except Exception as error:  # OpenVINO's own error types; the finding is that it fails, and why
        report["runtimes"]["ov-int8-onnx"] = {"error": " ".join(str(error).split())[:500]}
    helper = taggers["ort-int8"]
    quantised = nncf_quantised(arguments.fp32, calibration, helper.encoder, helper.pad_id)
    for hint in ("default", "f32"):
        config = {} if hint == "default" else {"INFERENCE_PRECISION_HINT": "f32"}
        taggers[f"ov-nncf-{hint}"] = OpenVinoTagger(
            core.compile_model(quantised, "CPU", config), arguments.fp32
        )
    latency = {"PERFORMANCE_HINT": "LATENCY", "INFERENCE_PRECISION_HINT": "f32"}
    bounded = quantised.clone()
    bounded.reshape({port.any_name: "1..64,1..128" for port in bounded.inputs})
    taggers["ov-nncf-bounded"] = OpenVinoTagger(core.compile_model(bounded, "CPU", latency), arguments.fp32)
    taggers["ov-nncf-static"] = StaticShapeTagger(quantised, core, latency, arguments.fp32)
    return measure(taggers, report, sentences, gold, arguments)


def measure(
    taggers: dict[str, Any],
    report: dict[str, Any],
    sentences: list[list[str]],
    gold: list[list[str]],
    arguments: argparse.Namespace,
) -> None:
    for name, tagger in taggers.items():  # warm-up: every shape the timed passes meet, compiled or cached
        before = resident_mib()
        tagger.tag(sentences, batch_size=32)
        one_sentence(tagger, sentences)
        report.setdefault("warm_up", {})[name] = {"resident_growth_mib": round(resident_mib() - before, 1)}
        if isinstance(tagger, StaticShapeTagger | OpenVinoTagger_):
            report["warm_up"][name] |= {
                "shapes_compiled": (
                    tagger.shapes_compiled if isinstance(tagger, OpenVinoTagger_) else len(tagger.requests)
                ),
                "compile_seconds": round(tagger.compile_seconds, 2),
            }
    times: dict[str, list[float]] = {name: [] for name in taggers}
    tags_of: dict[str, list[list[str]]] = {}
    for _ in range(arguments.rounds):
        for name, tagger in taggers.items():  # interleaved: A, B, C, A, B, C, ...
            report.setdefault("load_before_rounds", []).append(machine())
            seconds, tags = timed_pass(tagger, sentences)
            times[name].append(seconds)
            tags_of[name] = tags
    for name, tagger in taggers.items():
        report["runtimes"][name] = {
            "dev_model_seconds": round(statistics.median(times[name]), 3),
            "dev_model_seconds_all": [round(t, 3) for t in times[name]],
            "dev_micro_f1": entity_scores(gold, tags_of[name])["micro"]["f1"],
            "one_sentence": one_sentence(tagger, sentences),
            "tags_independent_of_batch_neighbours": neighbour_independent(tagger, sentences, tags_of[name]),
        }
    base = report["runtimes"]["ort-int8"]["dev_model_seconds"]
    for figures in report["runtimes"].values():
        if "dev_model_seconds" in figures:
            figures["ratio_ort_over_this"] = round(base / figures["dev_model_seconds"], 3)
    text = json.dumps(report, indent=2) + "\n"
    if arguments.json is not None:
        arguments.json.write_text(text)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
