"""``nerd extract``: an archive through a bundle, every record accounted for, resumable at any moment.

Every record read ends in exactly one place: a document's entities in a shard, or a line of
``rejects.jsonl`` saying where it came from and why (``read == extracted + rejected``). Shards are
written whole, the journal after each, the manifest last; the same command run again after a kill
(SIGKILL included) goes on from the last whole shard, so every document is in the output once.
"""

from __future__ import annotations

import contextlib
import json
import os
import platform
import time
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from nerd import __version__
from nerd.atomic import OutputError
from nerd.bundle_checks import verified_bundle
from nerd.errors import ConfigError, InputError
from nerd.extraction.batches import Batch, ShardSink, archive_items, batches
from nerd.extraction.documents import Fields, input_files
from nerd.extraction.journal import MANIFEST, REJECTS, open_journal, run_fingerprint
from nerd.extraction.request import DEFAULT_BATCH_SIZE, DEFAULT_SHARD_SIZE, Engine, ExtractRequest
from nerd.extraction.shards import write_whole


@dataclass
class Progress:
    """What the progress bar shows; ``total`` is the archive's records when they were counted."""

    read: int = 0
    extracted: int = 0
    rejected: int = 0
    entities: int = 0
    total: int | None = None


def extract(request: ExtractRequest, on_progress: Callable[[Progress], None] = lambda p: None) -> dict:
    """Extract the archive into ``request.out_dir``; returns the manifest.

    Raises:
        InputError: an input that names no file, or an archive with no record at all.
        ModelBundleError: a bundle that fails its checks.
        OutputError: an output folder of another run, or one that cannot be written (a full disk: the
            same command resumes once there is room).
    """
    if request.workers < 1 or request.threads < 1 or request.shard_size < 1 or request.batch_size < 1:
        raise ConfigError("--workers, --threads, --shard-size and --batch-size are at least 1")
    files = input_files(request.inputs)
    bundle = verified_bundle(request.bundle, keep_bytes=False)
    options = {
        "text_field": request.fields.text,
        "id_field": request.fields.id,
        "max_chars": request.fields.max_chars,
        "format": request.output.value,
        "shard_size": request.shard_size,
    }
    fingerprint = run_fingerprint(files, options, bundle.digest)
    journal, finished = open_journal(request.out_dir, fingerprint)
    if finished is not None:
        return finished | {"finished_earlier": True}
    total = count_records(files, request.fields)
    if total == 0:
        raise InputError(f"{', '.join(map(str, files))}: no record at all, nothing to extract")
    try:
        request.out_dir.mkdir(parents=True, exist_ok=True)
    except OSError as error:
        raise OutputError(f"{request.out_dir}: cannot create: {error.strerror or error}") from None
    tick = time.perf_counter()
    progress = Progress(total=total)
    for shard in journal.shards:
        _count(progress, shard)
    on_progress(progress)

    def shard_done(shard: dict[str, Any]) -> None:
        # Its batches counted the records as they came; the entities are counted once the shard is written.
        progress.entities += shard["entities"]
        on_progress(progress)

    sink = ShardSink(request.out_dir, journal, request.output, on_shard=shard_done)
    if request.engine is Engine.ray:
        from nerd.extraction.ray_engine import run_on_ray

        results = run_on_ray(request, files, done=journal.read, first_shard=len(journal.shards))
    else:
        from nerd.extraction.local_engine import run_locally

        pending = _pending_batches(request, files, journal.read, len(journal.shards))
        results = run_locally(request.bundle, pending, workers=request.workers, threads=request.threads)
    for batch, lines in results:
        progress.read += batch.read
        progress.extracted += len(lines)  # a line per document (a Ray batch carries only its lines)
        progress.rejected += len(batch.rejects)
        sink.add(batch, lines)  # calls shard_done when the batch closes its shard
        if not batch.closes_shard:
            on_progress(progress)
    return _finish(request, journal.shards, bundle, options, time.perf_counter() - tick)


def _pending_batches(request: ExtractRequest, files: list[Path], done: int, shards: int) -> Any:
    items = archive_items(files, request.fields)
    for _ in range(done):  # the records of the shards already written: read again, not extracted
        next(items, None)
    return batches(items, first_shard=shards, shard_size=request.shard_size, batch_size=request.batch_size)


def _count(progress: Progress, shard: dict[str, Any]) -> None:
    progress.read += shard["read"]
    progress.extracted += shard["documents"]
    progress.rejected += shard["rejected"]
    progress.entities += shard["entities"]


def count_records(files: list[Path], fields: Fields) -> int | None:
    """The archive's records, for the progress bar's ETA: read as the extraction reads them (a fraction
    of the model's time)."""
    from nerd.extraction.documents import read_items

    try:
        return sum(1 for path in files for _ in read_items(path, fields))
    except OSError:
        return None


def _finish(request: ExtractRequest, shards: list[dict], bundle: Any, options: dict, seconds: float) -> dict:
    """Gather the rejects, then write the manifest (last: its presence says the run is complete)."""
    out = request.out_dir
    rejects = b"".join((out / s["rejects_file"]).read_bytes() for s in shards if s["rejects_file"])
    write_whole(out / REJECTS, rejects)
    reasons = Counter(json.loads(line)["reason"] for line in rejects.decode("utf-8").splitlines())
    counts = {
        "read": sum(s["read"] for s in shards),
        "extracted": sum(s["documents"] for s in shards),
        "rejected": sum(s["rejected"] for s in shards),
        "entities": sum(s["entities"] for s in shards),
        "rejected_by_reason": dict(sorted(reasons.items())),
    }
    if counts["read"] != counts["extracted"] + counts["rejected"]:  # the accounting's own check
        raise OutputError(f"{out}: {counts} do not add up; the journal was edited")
    manifest = {
        "created": datetime.now(UTC).isoformat(timespec="seconds"),
        "counts": counts,
        "format": request.output.value,
        "shards": [
            {k: s[k] for k in ("file", "sha256", "read", "documents", "entities", "rejected")} for s in shards
        ],
        "rejects": REJECTS,
        "model": {
            "name": bundle.manifest.name,
            "path": str(request.bundle),
            "bundle_sha256": bundle.digest,
            "model_sha256": bundle.manifest.files.get("model.onnx"),
        },
        "inputs": [str(path) for path in request.inputs],
        "options": options,
        "engine": request.engine.value,
        "workers": request.workers,
        "threads": request.threads,
        "seconds_this_run": round(seconds, 2),
        "versions": _versions(request.engine),
    }
    write_whole(out / MANIFEST, (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8"))
    for shard in shards:  # gathered into rejects.jsonl; the manifest now says the run is done
        if shard["rejects_file"]:
            with contextlib.suppress(FileNotFoundError):
                os.unlink(out / shard["rejects_file"])
    return manifest


def _versions(engine: Engine) -> dict[str, str]:
    import onnxruntime

    versions = {
        "nerd": __version__,
        "onnxruntime": onnxruntime.__version__,
        "python": platform.python_version(),
    }
    if engine is Engine.ray:
        import ray

        versions["ray"] = ray.__version__
    return versions


__all__ = [
    "DEFAULT_BATCH_SIZE",
    "DEFAULT_SHARD_SIZE",
    "Batch",
    "Engine",
    "ExtractRequest",
    "Progress",
    "extract",
]
