"""The exported model bundle (``onnx-<variant>/``): what its manifest, ``bundle.json``, says.

Export writes a bundle, ``nerd verify`` re-checks one, and the service refuses to load one that does not
match its manifest. The manifest lists the sha256 of every other file in the directory, so one changed,
missing or added byte anywhere is found and named. Reading a bundle's files is ``bundle_reading.py``;
whether a bundle may be served (one rule, for ``nerd verify``, ``nerd serve`` and every loader) is
``bundle_checks.py``.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from pathlib import Path
from typing import Any, Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError

from nerd.errors import ModelBundleError
from nerd.json_files import json_error_text

MANIFEST = "bundle.json"
MODEL_FILE = "model.onnx"
# Written after the manifest (nerd sign), so outside its file list; it signs the manifest's digest.
SIGNATURE_FILE = "bundle.sig"
FORMAT_VERSION = 1
Variant = Literal["fp32", "int8", "fp16"]


class OpenVinoModel(BaseModel):
    """The OpenVINO model an int8 bundle may carry beside its ONNX one (``nerd export --openvino``)."""

    model_config = ConfigDict(extra="forbid")

    model: str = Field(default="openvino_model.xml", description="the OpenVINO IR's graph, a listed file")
    weights: str = Field(default="openvino_model.bin", description="its weights, a listed file")
    quantization: dict[str, Any] = Field(description="how NNCF quantised it, and on which sentences")
    verification: dict[str, Any] = Field(description="its verification against the PyTorch model")


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
    # Absent from bundles without word shapes, so that their manifests and digests stay as they were.
    word_shapes: list[str] | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="the word shapes the model reads as token types, in id order (nerd.word_shapes)",
    )
    # Absent from bundles without one, so that their manifests and digests stay as they were.
    openvino: OpenVinoModel | None = Field(
        default=None,
        exclude_if=lambda value: value is None,
        description="the OpenVINO model beside the ONNX one, if the export wrote one",
    )
    files: dict[str, str] = Field(description="file name -> sha256 of every other file in the bundle")


def bundle_digest(manifest: Manifest) -> str:
    """One sha256 for the whole bundle: of its manifest, which lists every other file's sha256.

    Any change anywhere (a file, a label in ``bundle.json``, a verification figure) changes it, so it
    names exactly what is served; ``nerd verify``, ``/v1/model`` and every response report it.
    """
    canonical = json.dumps(manifest.model_dump(), sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return hashlib.sha256(canonical.encode()).hexdigest()


class NotABundle(ModelBundleError):
    """The path holds no bundle at all: missing, not a directory, a link, or no manifest."""


def read_manifest(directory: str | Path) -> Manifest:
    """The parsed ``bundle.json`` of a bundle directory.

    Raises:
        ModelBundleError: no such directory or manifest, unreadable JSON, a field of the wrong shape.
    """
    path = Path(directory) / MANIFEST
    if not Path(directory).is_dir():
        raise NotABundle("not a directory", path=directory)
    try:
        with _open_nofollow(path) as stream:
            data = stream.read()
    except FileNotFoundError:
        raise NotABundle(f"no {MANIFEST}: not an exported model bundle", path=directory) from None
    except OSError as error:
        raise ModelBundleError(f"cannot read: {os_reason(error)}", path=path) from None
    return parse_manifest(data, path)


def parse_manifest(data: bytes, path: str | Path) -> Manifest:
    """``bundle.json``'s bytes as a :class:`Manifest`.

    Raises:
        ModelBundleError: not UTF-8, not JSON, a field of the wrong shape.
    """
    try:
        return Manifest.model_validate(json.loads(data.decode("utf-8")))
    except UnicodeDecodeError as error:
        raise ModelBundleError(f"cannot read: not UTF-8 ({error.reason})", path=path) from None
    except json.JSONDecodeError as error:
        raise ModelBundleError(f"not JSON: {json_error_text(error)}", path=path, line=error.lineno) from None
    except (ValueError, RecursionError) as error:  # 4,300-digit integers, nesting
        raise ModelBundleError(f"not JSON: {str(error).split(';')[0]}", path=path) from None
    except ValidationError as error:
        first = error.errors()[0]
        field_name = ".".join(str(part) for part in first["loc"]) or None
        raise ModelBundleError(first["msg"], path=path, field=field_name) from None


@contextlib.contextmanager
def _open_nofollow(path: Path) -> Iterator[Any]:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as stream:
        yield stream


def os_reason(error: OSError) -> str:
    """An OS error in the words a bundle problem uses."""
    if error.errno == errno.ELOOP:
        return "a symbolic link, not a regular file"
    return error.strerror or str(error)
