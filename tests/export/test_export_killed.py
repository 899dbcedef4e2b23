"""``nerd export`` killed with SIGKILL at any point (the ONNX export, the quantisation, the verification,
the installs) leaves no half bundle where ``nerd verify`` or ``nerd serve`` would find it, and the same
command, run again, finishes the job (``nerd.export.interrupted_exports``).

On 722a394 a kill left the staging directory for good, and one during the installs left ``onnx-fp32/``
new and ``onnx-int8/`` missing: the same command then refused with "already exists".
"""

import json
import os
import signal
import subprocess
import sys
import time

import pytest

from nerd.bundle_checks import verified_bundle
from nerd.export.interrupted_exports import JOURNAL

STEPS = [
    "exporting the checkpoint",
    "building fp32",
    "running the PyTorch model",
    "verifying fp32",
    "building int8",
    "verifying int8",
    "installing the verified bundles",
]
DRIVER = """
import sys
from pathlib import Path
from nerd.export.bundles import ExportRequest, export_bundles
from nerd.tagging.checkpoint import load_checkpoint

checkpoint, sample, out = map(Path, sys.argv[1:4])
variants = ["fp32", "int8"]
request = ExportRequest(load_checkpoint(checkpoint), variants, out_dir=out, verify_on=sample, threads=1)
export_bundles(request, on_step=lambda message: print(message, flush=True))
print("done", flush=True)
"""
# (step after which to kill, seconds to wait after it): SIGKILL lands in every phase, some of them
# while the phase is under way rather than at its start.
# A kill during the installs comes last in a chain: the run after it only finishes the install.
CHAINS = [
    [(0, 0.6), (1, 0.0), (3, 0.0), (6, 0.003)],
    [(0, 2.5), (2, 0.0), (4, 0.02), (6, 0.0)],
    [(5, 0.0), (0, 0.1), (4, 0.0), (6, 0.001)],
]


def run(driver, arguments, kill_after=None):
    """Run the export; with ``kill_after`` (step, delay), SIGKILL it there. True if it finished."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    process = subprocess.Popen(
        [sys.executable, str(driver), *map(str, arguments)],
        stdout=subprocess.PIPE,
        stderr=subprocess.DEVNULL,
        text=True,
        env=env,
    )
    assert process.stdout is not None
    for line in process.stdout:
        if kill_after is not None and line.startswith(STEPS[kill_after[0]]):
            time.sleep(kill_after[1])
            process.send_signal(signal.SIGKILL)
            process.wait()
            return False
        if line.startswith("done"):
            break
    assert process.wait(timeout=120) == 0
    return True


def assert_nothing_half_done(out):
    """Every bundle directory a reader would find is whole; what else is there is the export's own."""
    for entry in out.iterdir():
        if entry.name.startswith("onnx-"):
            verified_bundle(entry, keep_bytes=False)  # what nerd verify and nerd serve check
        else:
            # Staging, swapped-out bundles, the journal or its draft: hidden, and removed by the next run.
            assert entry.name.startswith((".export-", ".onnx-", f".{JOURNAL}.")), entry.name


@pytest.mark.parametrize("chain", CHAINS, ids=["export-then-verify", "every-phase", "late-then-early"])
def test_an_export_killed_anywhere_is_finished_by_the_same_command(
    trained_model, sample_file, tmp_path, chain
):
    driver = tmp_path / "export_driver.py"
    driver.write_text(DRIVER)
    out = tmp_path / "models"
    arguments = [trained_model, sample_file, out]
    kills = 0
    for kill_after in chain:
        assert not run(driver, arguments, kill_after), f"finished before step {kill_after}"
        kills += 1
        if out.exists():
            assert_nothing_half_done(out)
    assert run(driver, arguments)  # the same command: finishes the job, or says it is finished
    assert kills == len(chain)  # 12 kills over the three chains
    for variant in ("fp32", "int8"):
        manifest = verified_bundle(out / f"onnx-{variant}", keep_bytes=False).manifest
        assert manifest.verification["passed"]
    # Nothing of the killed runs is left: no staging, no swapped-out bundle; the journal says it is done.
    assert sorted(entry.name for entry in out.iterdir()) == [JOURNAL, "onnx-fp32", "onnx-int8"]
    assert json.loads((out / JOURNAL).read_text())["installed"] is True


def test_a_journal_of_another_request_is_dropped_and_its_staging_removed(
    trained_model, sample_file, tmp_path
):
    from nerd.export.bundles import ExportRequest, export_bundles
    from nerd.tagging.checkpoint import load_checkpoint

    out = tmp_path / "models"
    stale = out / ".export-999999999-x"  # no such process
    (stale / "onnx-fp32").mkdir(parents=True)
    (out / JOURNAL).write_text(
        json.dumps(
            {"pid": 999999999, "fingerprint": "another", "staging": stale.name, "variants": ["fp32"]}
            | {"digests": {"fp32": "x"}, "results": []}
        )
    )
    request = ExportRequest(
        checkpoint=load_checkpoint(trained_model), variants=["fp32"], out_dir=out, verify_on=sample_file
    )
    (result,) = export_bundles(request)
    assert result["passed"]
    assert sorted(entry.name for entry in out.iterdir()) == [JOURNAL, "onnx-fp32"]
    again = export_bundles(request)
    assert again[0]["finished_earlier"] and again[0]["f1"] == result["f1"]


def test_a_staging_left_by_a_kill_after_the_install_is_removed_by_the_next_run(
    trained_model, sample_file, tmp_path
):
    """CI caught this one: killed after the journal said "installed" but while its staging was being
    removed, an export left that staging behind, and the next run kept it as the journal's own."""
    from nerd.export.bundles import ExportRequest, export_bundles
    from nerd.tagging.checkpoint import load_checkpoint

    out = tmp_path / "models"
    request = ExportRequest(
        checkpoint=load_checkpoint(trained_model), variants=["fp32"], out_dir=out, verify_on=sample_file
    )
    export_bundles(request)
    journal = json.loads((out / JOURNAL).read_text())
    dead = 999999999  # no such process: the export that was killed during its clean-up
    left = out / f".export-{dead}-half"
    (left / "raw").mkdir(parents=True)
    (out / JOURNAL).write_text(json.dumps(journal | {"pid": dead, "staging": left.name}))
    again = export_bundles(request)
    assert again[0]["finished_earlier"]
    assert sorted(entry.name for entry in out.iterdir()) == [JOURNAL, "onnx-fp32"]
