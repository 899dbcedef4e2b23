"""What an extraction has finished, kept beside its output so that the same command resumes it.

``OUT/.extract-journal.json`` names the run (a digest of the inputs, the options and the model) and
the shards written so far; it is replaced atomically after each shard, so a kill at any moment leaves
it naming only shards whose files are whole. ``OUT/manifest.json`` is written last, once every record
of the archive is in a shard or a reject. An output folder of another run (other inputs, options or
model) is refused rather than mixed in.
"""

from __future__ import annotations

import hashlib
import json
import os
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from nerd.atomic import OutputError
from nerd.extraction.shards import write_whole

JOURNAL = ".extract-journal.json"
MANIFEST = "manifest.json"
REJECTS = "rejects.jsonl"


@dataclass
class Journal:
    fingerprint: str
    shards: list[dict[str, Any]] = field(default_factory=list)

    @property
    def read(self) -> int:
        return sum(shard["read"] for shard in self.shards)

    def save(self, out_dir: Path) -> None:
        record = {"fingerprint": self.fingerprint, "shards": self.shards}
        write_whole(out_dir / JOURNAL, (json.dumps(record, indent=1) + "\n").encode("utf-8"))


def run_fingerprint(files: list[Path], options: dict[str, Any], bundle_sha256: str) -> str:
    """A digest of everything that decides the output: the input files (path, size, modification
    time), the options that change records or shards, and the bundle."""
    stats = []
    for path in files:
        info = path.stat()
        stats.append([str(path.resolve()), info.st_size, info.st_mtime_ns])
    record = {"files": stats, "options": options, "bundle_sha256": bundle_sha256}
    return hashlib.sha256(json.dumps(record, sort_keys=True).encode()).hexdigest()


def open_journal(out_dir: Path, fingerprint: str) -> tuple[Journal, dict[str, Any] | None]:
    """The journal to continue (a new one for an empty or missing folder) and, for a run that already
    finished, its manifest.

    Raises:
        OutputError: the folder holds another run's output, or files that are not an extraction's.
    """
    manifest_path, journal_path = out_dir / MANIFEST, out_dir / JOURNAL
    if not out_dir.exists():
        return Journal(fingerprint), None
    if not out_dir.is_dir():
        raise OutputError(f"{out_dir}: not a folder")
    if journal_path.exists():
        data = _read_json(journal_path)
        try:
            journal = Journal(str(data["fingerprint"]), list(data["shards"]))
        except (KeyError, TypeError) as error:
            raise OutputError(f"{journal_path}: unreadable ({error}); extract into a new folder") from None
        if journal.fingerprint != fingerprint:
            raise OutputError(
                f"{out_dir}: holds the output of another extraction (other inputs, options or model); "
                "extract into a new folder"
            )
        return journal, _read_json(manifest_path) if manifest_path.exists() else None
    others = sorted(entry.name for entry in os.scandir(out_dir))
    if others:
        shown = ", ".join(others[:3]) + (" ..." if len(others) > 3 else "")
        raise OutputError(f"{out_dir}: not empty and not an extraction's folder ({shown}); use a new folder")
    return Journal(fingerprint), None


def _read_json(path: Path) -> Any:
    """A file of the run's own (written atomically, so only a hand edit or a failing disk breaks it)."""
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as error:
        raise OutputError(f"{path}: unreadable ({error}); extract into a new folder") from None
