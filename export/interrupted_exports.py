"""An export killed at any moment leaves no half bundle, and the same command finishes the job.

Every variant is built and verified in a staging directory named after the exporting process
(``OUT/.export-<pid>-*``); nothing is installed until all have passed. Then a journal
(``OUT/.export-journal.json``) records the request and the verified bundles, and each is moved into place
with one rename. Killed before the journal, an export leaves only its staging directory, which the next
export removes (its process is gone); killed during the installs, the next run of the same request rolls
forward from the journal: the bundles it verified are installed, none is built twice. A journal of another
request is dropped with its staging (what it installed is complete and verified; the rest is not).
Once every bundle is in place the journal stays, marked installed: the same command run again says the
export is finished (and changes nothing) as long as the bundles are still the ones it installed.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import re
import shutil
import tempfile
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Any

from nerd.atomic import OutputError, atomic_write_text
from nerd.bundle_checks import verified_bundle
from nerd.checksums import file_sha256

JOURNAL = ".export-journal.json"
_STAGING = re.compile(r"\.export-(\d+)-[A-Za-z0-9_]+")
_OLD_BUNDLE = re.compile(r"\.onnx-[a-z0-9]+\.old-(\d+)")
_JOURNAL_DRAFT = re.compile(re.escape(f".{JOURNAL}.") + r"\w+\.tmp")  # nerd.atomic's temporary name


@dataclass(frozen=True)
class Installation:
    """What a journal says: the verified bundles of one request, staged, and where each goes."""

    fingerprint: str
    staging: Path
    variants: list[str]
    digests: dict[str, str]  # variant -> bundle digest, to recognise an installed one
    results: list[dict[str, Any]]  # the verification reports the export returns
    installed: bool = False  # every bundle is in place


def fingerprint(fields: dict[str, Any], checkpoint: Path, samples: list[Path | None]) -> str:
    """A digest of everything that decides an export: its options, the checkpoint's files (names, sizes,
    modification times) and the sentences it is verified and calibrated on (their bytes)."""
    files = sorted(
        (entry.name, entry.stat().st_size, entry.stat().st_mtime_ns)
        for entry in os.scandir(checkpoint)
        if entry.is_file(follow_symlinks=False)
    )
    record = {
        "fields": fields,
        "checkpoint": [str(checkpoint.resolve()), files],
        "samples": [file_sha256(path) if path is not None else None for path in samples],
    }
    return hashlib.sha256(json.dumps(record, sort_keys=True, default=str).encode()).hexdigest()


def _alive(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True  # someone else's process
    return True


def new_staging(out_dir: Path) -> Path:
    """A staging directory that says which process it belongs to."""
    return Path(tempfile.mkdtemp(prefix=f".export-{os.getpid()}-", dir=out_dir))


def clear_dead_exports(out_dir: Path, keep: Path | None = None) -> None:
    """Remove the staging directories and swapped-out bundles of exports whose process is gone, and a
    journal's draft a kill left (called when no other export is installing here)."""
    for entry in os.scandir(out_dir):
        if _JOURNAL_DRAFT.fullmatch(entry.name):
            Path(entry.path).unlink(missing_ok=True)
            continue
        match = _STAGING.fullmatch(entry.name) or _OLD_BUNDLE.fullmatch(entry.name)
        path = Path(entry.path)
        if match and path != keep and entry.is_dir(follow_symlinks=False) and not _alive(int(match.group(1))):
            shutil.rmtree(path, ignore_errors=True)


def read_journal(out_dir: Path) -> tuple[int, Installation] | None:
    """The journal of an interrupted install and the pid that wrote it, or None."""
    path = out_dir / JOURNAL
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        pid = int(data["pid"])
        installation = Installation(
            fingerprint=str(data["fingerprint"]),
            staging=out_dir / str(data["staging"]),
            variants=[str(v) for v in data["variants"]],
            digests={str(k): str(v) for k, v in data["digests"].items()},
            results=list(data["results"]),
            installed=bool(data.get("installed", False)),
        )
    except FileNotFoundError:
        return None
    except (OSError, ValueError, KeyError, TypeError):
        path.unlink(missing_ok=True)  # written atomically, so only a hand edit gets here: nothing to resume
        return None
    return pid, installation


def write_journal(out_dir: Path, installation: Installation) -> None:
    record = {
        "pid": os.getpid(),
        "fingerprint": installation.fingerprint,
        "staging": installation.staging.name,
        "variants": installation.variants,
        "digests": installation.digests,
        "results": installation.results,
        "installed": installation.installed,
    }
    atomic_write_text(out_dir / JOURNAL, json.dumps(record, indent=2) + "\n")


def earlier_installation(out_dir: Path, request_fingerprint: str) -> Installation | None:
    """What an earlier run of this very request installed, or left half installed, else None; clears what
    dead exports left behind.

    Raises:
        OutputError: another export is installing into this directory right now.
    """
    journal = read_journal(out_dir)
    if journal is not None:
        pid, installation = journal
        if not installation.installed and pid != os.getpid() and _alive(pid):
            raise OutputError(f"{out_dir}: another nerd export (process {pid}) is installing bundles here")
        usable = installation.fingerprint == request_fingerprint and (
            _in_place(installation, out_dir) if installation.installed else installation.staging.is_dir()
        )
        if not usable:
            shutil.rmtree(installation.staging, ignore_errors=True)
            (out_dir / JOURNAL).unlink(missing_ok=True)
            journal = None
    # An installed journal's staging is no longer needed: a kill during the final clean-up leaves it behind.
    keep = journal[1].staging if journal is not None and not journal[1].installed else None
    clear_dead_exports(out_dir, keep=keep)
    return journal[1] if journal is not None else None


def _in_place(installation: Installation, out_dir: Path) -> bool:
    """Whether every target is the very bundle the export verified."""
    for variant in installation.variants:
        digest = None
        with contextlib.suppress(Exception):
            digest = verified_bundle(out_dir / f"onnx-{variant}", keep_bytes=False).digest
        if digest != installation.digests[variant]:
            return False
    return True


def install(installation: Installation, out_dir: Path) -> None:
    """Move each staged bundle into place (those a killed run installed already stay), check that every
    target is the bundle that was verified, and mark the journal installed.

    Raises:
        OutputError: a target that is not the bundle the journal names (changed meanwhile).
    """
    for variant in installation.variants:
        staged = installation.staging / f"onnx-{variant}"
        if staged.is_dir():
            _replace(staged, out_dir / f"onnx-{variant}")
    if not _in_place(installation, out_dir):
        raise OutputError(f"{out_dir}: its bundles are not those this export verified; run the export again")
    write_journal(out_dir, replace(installation, installed=True))


def _replace(built: Path, target: Path) -> None:
    """Move a verified bundle into place; an old one is swapped out first and removed after (if this
    process dies between the two renames, the next export removes the old one and installs the new)."""
    old = None
    if target.exists():
        old = target.with_name(f".{target.name}.old-{os.getpid()}")
        shutil.rmtree(old, ignore_errors=True)
        os.replace(target, old)
    os.replace(built, target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
