"""Benchmark: how long ``nerd import`` takes on real answer files (target: the shared 2,000 records in < 3 s).

Usage: python bench/import_answers.py [ANSWERS_DIR] [--repeat N]
Times the import itself (reading, parsing, aligning, accounting) and a full write of the outputs,
in-process after one warm-up run, and prints the median and the spread.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import time
from pathlib import Path

from nerd.annotation.import_outputs import ImportPaths, write_import
from nerd.annotation.importing import import_answers


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("bundle", nargs="?", default="../shared/data/teacher-bundle", type=Path)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    if not args.bundle.exists():
        sys.stderr.write(f"answer files not found: {args.bundle} (the shared data lives in ../shared/data)\n")
        return 2
    timings = []
    with tempfile.TemporaryDirectory() as scratch:
        for run in range(args.repeat + 1):
            start = time.perf_counter()
            result = import_answers([args.bundle])
            write_import(result, ImportPaths(Path(scratch) / f"run-{run}"))
            elapsed = time.perf_counter() - start
            if run:  # the first run warms the file cache and imports
                timings.append(elapsed)
    report = result.report
    sys.stdout.write(
        f"records read: {report['read']} (imported {report['imported']}, rejected {report['rejected']}, "
        f"duplicates {report['duplicates']})\n"
        f"import + write: median {statistics.median(timings):.3f} s, min {min(timings):.3f} s, "
        f"max {max(timings):.3f} s over {len(timings)} runs\n"
    )
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
