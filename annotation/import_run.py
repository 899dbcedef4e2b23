"""An import from a teacher's answer files to an output directory: the function behind ``nerd import``.

It reads the label set, imports the answers (:func:`nerd.annotation.importing.import_answers`), scores
them against gold when a gold file is given, and writes every output atomically; the report it returns
is what the CLI shows and ``report.json`` holds.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path

from nerd.annotation.import_outputs import ImportPaths, check_outputs, write_import
from nerd.annotation.import_report import ImportReport
from nerd.annotation.importing import ImportOptions, import_answers
from nerd.annotation.teacher_eval import score_against_gold
from nerd.conll import read_conll
from nerd.labels import load_label_set


def run_import(
    *,
    sources: list[Path],
    out: Path,
    gold: Path | None = None,
    json_report: Path | None = None,
    retry_requests: Path | None = None,
    conll: bool = False,
    labels: Path | None = None,
    label_map: Path | None = None,
    drop_hallucinated: bool = False,
    strict: bool = False,
    progress: Callable[[int, int], None] | None = None,
) -> ImportReport:
    """Import ``sources`` into ``out`` and return the report; ``progress`` hears (answers done, total).

    Raises:
        AnswerFilesError, InputError, LabelMapError, OutputError: answer files, a gold file, label set or
           output
            place that cannot be used (nothing is written then).
    """
    label_set = load_label_set(labels, label_map)
    gold_corpus = read_conll(gold) if gold is not None else None
    result = import_answers(
        sources,
        ImportOptions(labels=label_set, drop_hallucinated=drop_hallucinated, strict=strict),
        progress=progress,
    )
    if gold_corpus is not None:
        result.report["gold"] = score_against_gold(result.records, gold_corpus)
    paths = ImportPaths(out, json_report=json_report, retry_requests=retry_requests, conll=conll)
    check_outputs(paths, sources, result.inputs)
    write_import(result, paths)
    result.report["outputs"] = {"dir": str(out)}
    return result.report
