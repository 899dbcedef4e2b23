"""Which layers cost F1 when quantised: dynamic int8 with one group of nodes at a time kept in float.

A stronger model loses more to int8 (a MiniLM trained on all of CoNLL train lost 0.51 dev points). This
quantises an fp32 bundle once per group of nodes (the feed-forward output products, the attention
projections, the classifier, one layer, ...) with that group kept in float, scores each on a CoNLL file
exactly as ``nerd evaluate`` scores a bundle, and prints F1, its loss against fp32 and the model size,
so that the export keeps in float only what measurably pays for its bytes.

    nerd export out/default/full/seed-1 --variants fp32 --out out/default/seed-1-fp32
    python -m nerd.experiments.int8_sensitivity out/default/seed-1-fp32/onnx-fp32 \\
        ../shared/data/conll2003/valid.txt --out out/default/sensitivity
"""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path
from typing import Annotated

import typer

from nerd.atomic import atomic_write_text
from nerd.bundle_reading import checksums
from nerd.model_bundle import MANIFEST, MODEL_FILE, read_manifest

# Names as optimum's BERT export writes them (MiniLM-L6 is a BERT); a group that matches nothing is
# reported with 0 nodes rather than skipped, so a renamed graph shows up in the table.
GROUPS: dict[str, str] = {
    "none": r"$^",
    "ffn-output": r"layer\.\d+/output/dense/MatMul$",
    "ffn-intermediate": r"intermediate/dense/MatMul$",
    "attention-output": r"attention/output/dense/MatMul$",
    "query-key-value": r"attention/self/(query|key|value)/MatMul$",
    "classifier": r"^/classifier/MatMul$",
    "word-embeddings": r"word_embeddings/Gather$",
    "first-layer": r"layer\.0/.*MatMul$",
    "last-layer": r"layer\.5/.*MatMul$",
    "last-two-ffn-output": r"layer\.[45]/output/dense/MatMul$",
    "first-two-ffn-intermediate": r"layer\.[01]/intermediate/dense/MatMul$",
    "last-two-ffn-intermediate": r"layer\.[45]/intermediate/dense/MatMul$",
}
# "rows+GROUP" (or "rows" alone): the word-embedding table in int8 with one scale per row (what
# nerd export does); without the prefix, onnxruntime's one scale for the whole table.
ROWS = "rows"


def parse_group(name: str) -> tuple[str, bool]:
    """A group name without its ``rows+`` prefix, and whether the prefix was there."""
    if name == ROWS:
        return "none", True
    if name.startswith(ROWS + "+"):
        return name.removeprefix(ROWS + "+"), True
    return name, False


def node_names(model: Path) -> list[str]:
    import onnx

    return [node.name for node in onnx.load(str(model), load_external_data=False).graph.node]


def main(
    fp32_bundle: Annotated[Path, typer.Argument(help="An fp32 bundle from `nerd export --variants fp32`.")],
    data: Annotated[Path, typer.Argument(help="CoNLL file to score every variant on (the dev set).")],
    out: Annotated[Path, typer.Option(help="Directory for the variants and sensitivity.json.")],
    groups: Annotated[str, typer.Option(help="Comma-separated group names, or 'all'.")] = "all",
    target: Annotated[str, typer.Option(help="int8 instruction-set configuration.")] = "avx512_vnni",
) -> None:
    from nerd.evaluation.evaluating import evaluate
    from nerd.export.onnx_variants import copy_support_files, quantize_int8
    from nerd.sample_sentences import load_sample

    chosen = list(GROUPS) if groups == "all" else groups.split(",")
    unknown = [g for g in chosen if parse_group(g)[0] not in GROUPS]
    if unknown:
        raise typer.BadParameter(f"unknown groups {unknown}; known: {', '.join(GROUPS)}")
    names = node_names(fp32_bundle / MODEL_FILE)
    out.mkdir(parents=True, exist_ok=True)
    rows: dict[str, dict[str, object]] = {}
    results = out / "sensitivity.json"
    if results.is_file():
        rows = json.loads(results.read_text(encoding="utf-8"))
    if "fp32" not in rows:
        rows["fp32"] = {"f1": evaluate(fp32_bundle, [data]).report["micro"]["f1"], "nodes": 0}
    for group in chosen:
        if group in rows:
            continue
        pattern, per_row = parse_group(group)
        kept = [n for n in names if re.search(GROUPS[pattern], n)]
        dest = out / group
        shutil.rmtree(dest, ignore_errors=True)
        dest.mkdir()
        quantize_int8(
            fp32_bundle,
            dest,
            target,  # type: ignore[arg-type]
            calibration=load_sample(None).sentences,
            max_length=read_manifest(fp32_bundle).max_length,
            also_float=kept,
            embedding_rows=per_row,
        )
        copy_support_files(fp32_bundle, dest)
        manifest = read_manifest(fp32_bundle).model_copy(update={"variant": "int8", "files": checksums(dest)})
        atomic_write_text(dest / MANIFEST, manifest.model_dump_json(indent=1))
        f1 = evaluate(dest, [data]).report["micro"]["f1"]
        rows[group] = {
            "f1": f1,
            "drop_points": round(100 * (float(rows["fp32"]["f1"]) - f1), 2),  # type: ignore[arg-type]
            "nodes": len(kept),
            "megabytes": round((dest / MODEL_FILE).stat().st_size / 1e6, 1),
        }
        atomic_write_text(results, json.dumps(rows, indent=1))
        typer.echo(f"{group:22} {json.dumps(rows[group])}")
    typer.echo(json.dumps(rows, indent=1))


if __name__ == "__main__":
    typer.run(main)
