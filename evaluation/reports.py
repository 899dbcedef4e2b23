"""The written forms of an evaluation: a Markdown report and a file of the worst sentences."""

from __future__ import annotations

from typing import Any

from nerd.evaluation.error_analysis import KINDS
from nerd.evaluation.evaluating import AVERAGES, Evaluation


def score_rows(report: dict[str, Any]) -> list[tuple[str, dict[str, Any], dict[str, Any]]]:
    """(row name, default-mode scores, strict scores): each type, then the averages (the paper's Table 2)."""
    rows = [
        (name, report["per_type"][name], report["strict"]["per_type"].get(name, {}))
        for name in sorted(report["per_type"])
    ]
    rows.extend((f"{name} avg", report[name], report["strict"][name]) for name in AVERAGES)
    return rows


def markdown_report(report: dict[str, Any]) -> str:
    timing = report["timing"]
    lines = [
        f"# Evaluation of {report['model']['description']}",
        "",
        "Data: "
        + ", ".join(
            f"`{f['path']}` ({f['sentences']} sentences, sha256 `{f['sha256'][:12]}`)" for f in report["data"]
        ),
        "",
        "Scores: seqeval's default (conlleval-compatible) mode and strict IOB2.",
        "",
        "| | P | R | F1 | strict P | strict R | strict F1 | support |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for name, default, strict in score_rows(report):
        lines.append(
            f"| {name} | {default['precision']:.4f} | {default['recall']:.4f} | {default['f1']:.4f} | "
            f"{strict.get('precision', 0):.4f} | {strict.get('recall', 0):.4f} | {strict.get('f1', 0):.4f} | "
            f"{default['support']} |"
        )
    lines += ["", "## Errors", "", "| kind | count |", "|---|---|"]
    lines += [f"| {kind.replace('_', ' ')} | {report['errors'][kind]} |" for kind in KINDS]
    types = list(report["confusion"])
    lines += [
        "",
        "## Confusion (rows: gold type, columns: predicted type)",
        "",
        "| gold \\ predicted | " + " | ".join(types) + " |",
        "|---" * (len(types) + 1) + "|",
    ]
    lines += [
        f"| {gold} | " + " | ".join(str(report["confusion"][gold][p]) for p in types) + " |" for gold in types
    ]
    lines += [
        "",
        f"Time: {timing['sentences']} sentences, model {timing['model_seconds']:.2f} s, inference "
        f"{timing['inference_seconds']:.2f} s, end to end {timing['wall_seconds']:.2f} s.",
    ]
    lines += [f"Warning: {warning}" for warning in report.get("warnings", [])]
    return "\n".join(lines) + "\n"


def worst_sentences(evaluation: Evaluation, limit: int) -> str:
    """The sentences with the most errors: each word with its gold and predicted tag, then the errors."""
    ranked = sorted(evaluation.errors.sentences, key=lambda s: (-len(s.errors), s.index))[:limit]
    blocks = []
    for found in ranked:
        sentence = evaluation.sentences[found.index]
        where = f"{sentence.line}" if sentence.line is not None else "?"
        lines = [f"# sentence {found.index + 1} (line {where}): {len(found.errors)} errors"]
        gold, predicted = evaluation.gold[found.index], evaluation.predicted[found.index]
        width = max(len(token) for token in sentence.tokens)
        for token, g, p in zip(sentence.tokens, gold, predicted, strict=True):
            mark = "" if g == p else "  <--"
            lines.append(f"{token:<{width}}  {g:<8} {p:<8}{mark}")
        for kind, gold_span, predicted_span in found.errors:
            lines.append(
                f"  {kind}: gold {_show(sentence.tokens, gold_span)}; "
                f"predicted {_show(sentence.tokens, predicted_span)}"
            )
        blocks.append("\n".join(lines))
    header = "# token, gold tag, predicted tag; worst sentences first\n\n"
    return header + "\n\n".join(blocks) + ("\n" if blocks else "")


def _show(tokens: tuple[str, ...], span: Any) -> str:
    return "-" if span is None else f"{' '.join(tokens[span.start : span.end])} [{span.label}]"
