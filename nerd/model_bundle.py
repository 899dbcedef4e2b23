"""The exported model bundle (``onnx-<variant>/``): its manifest, ``bundle.json``, and its checksums.

Export writes a bundle, ``nerd verify`` re-checks one, and the service refuses to load one that does not
match its manifest. The manifest lists the sha256 of every other file in the directory, so one changed,
missing or added byte anywhere is found and named.
"""

from __future__ import annotations

import hashlib
import json
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nerd.checksums import file_sha256
from nerd.errors import ModelBundleError
from nerd.json_files import json_error_text

MANIFEST = "bundle.json"
MODEL_FILE = "model.onnx"
# Written after the manifest (nerd sign), so outside its file list; it signs the manifest's digest.
SIGNATURE_FILE = "bundle.sig"
FORMAT_VERSION = 1
Variant = Literal["fp32", "int8", "fp16"]


class Manifest(BaseModel):
    """What ``bundle.json`` holds."""

    model_config = ConfigDict(extra="forbid")

    format_version: int = FORMAT_VERSION
    name: str
    variant: Variant
    labels: list[str] = Field(min_length=1, description="model output index -> IOB2 label")
    max_length: int = Field(ge=4, description="sub-tokens per window, special tokens included")
    opset: int
    producers: dict[str, str] = Field(description="library -> version that produced the bundle")
    created: str = Field(description="UTC time of the export, ISO 8601")
    source_model: str = Field(description="the training directory the bundle was exported from")
    training_card: str | None = Field(description="the training card inside the bundle, if the run had one")
    quantization: dict[str, Any] | None = None
    verification: dict[str, Any]
    files: dict[str, str] = Field(description="file name -> sha256 of every other file in the bundle")


def bundle_digest(manifest: Manifest) -> str:
    """One sha256 for the whole bundle: of its manifest, which lists every other file's sha256.

    Any change anywhere (a file, a label in ``bundle.json``, a verification figure) changes it, so it
    names exactly what is served; ``nerd verify``, ``/v1/model`` and every response report it.
    """
    canonical = json.dumps(manifest.model_dump(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


def checksums(directory: Path) -> dict[str, str]:
    """sha256 of every file under ``directory`` but the manifest and its signature, by relative path."""
    return {
        path.relative_to(directory).as_posix(): file_sha256(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.relative_to(directory).as_posix() not in {MANIFEST, SIGNATURE_FILE}
    }


def read_manifest(directory: str | Path) -> Manifest:
    """The parsed ``bundle.json`` of a bundle directory.

    Raises:
        ModelBundleError: no such directory or manifest, unreadable JSON, a field of the wrong shape.
    """
    path = Path(directory) / MANIFEST
    if not Path(directory).is_dir():
        raise ModelBundleError("not a directory", path=directory)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelBundleError(f"no {MANIFEST}: not an exported model bundle", path=directory) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ModelBundleError(f"cannot read: {error}", path=path) from None
    try:
        return Manifest.model_validate(json.loads(text))
    except json.JSONDecodeError as error:
        raise ModelBundleError(f"not JSON: {json_error_text(error)}", path=path, line=error.lineno) from None
    except ValidationError as error:
        first = error.errors()[0]
        field = ".".join(str(part) for part in first["loc"]) or None
        raise ModelBundleError(first["msg"], path=path, field=field) from None


def find_mismatches(directory: str | Path, manifest: Manifest | None = None) -> list[str]:
    """Every difference between a bundle's files and its manifest, one message per file; [] when intact."""
    root = Path(directory)
    manifest = manifest or read_manifest(root)
    actual = checksums(root)
    problems = []
    for name, expected in sorted(manifest.files.items()):
        if name not in actual:
            problems.append(f"{name}: missing")
        elif actual[name] != expected:
            problems.append(f"{name}: sha256 {actual[name]} differs from the manifest's {expected}")
    problems.extend(f"{name}: not listed in {MANIFEST}" for name in sorted(set(actual) - set(manifest.files)))
    return problems


def verified_manifest(directory: str | Path) -> Manifest:
    """The manifest of a bundle whose files all match it.

    Raises:
        ModelBundleError: naming the first altered, missing or extra file (and how many more there are).
    """
    manifest = read_manifest(directory)
    problems = find_mismatches(directory, manifest)
    if problems:
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ModelBundleError(problems[0] + more, path=directory)
    if MODEL_FILE not in manifest.files:
        raise ModelBundleError(f"the manifest lists no {MODEL_FILE}", path=directory)
    check_labels_agree(directory, manifest)
    return manifest


def check_labels_agree(directory: str | Path, manifest: Manifest) -> None:
    """The manifest's label list must be the model's own, as its ``config.json`` (``id2label``) gives it:
    a list edited in ``bundle.json`` alone (two labels swapped, one dropped) would make every answer of
    those types wrong without an error anywhere.

    Raises:
        ModelBundleError: the two lists differ (in length or in order).
    """
    config_path = Path(directory) / "config.json"
    if not config_path.is_file():
        return
    try:
        config = json.loads(config_path.read_text(encoding="utf-8"))
        id2label = config.get("id2label") if isinstance(config, dict) else None
        model_labels = (
            [id2label[key] for key in sorted(id2label, key=int)] if isinstance(id2label, dict) else None
        )
    except (OSError, ValueError, TypeError, KeyError, RecursionError) as error:
        raise ModelBundleError(f"config.json: unreadable id2label ({error})", path=directory) from None
    if model_labels is None:
        return
    if list(manifest.labels) != model_labels:
        raise ModelBundleError(
            f"bundle.json lists {len(manifest.labels)} labels {list(manifest.labels)[:10]}, but the model "
            f"(config.json id2label) has {len(model_labels)}: {model_labels[:10]}; the label list was edited",
            path=directory,
            field="labels",
        )
