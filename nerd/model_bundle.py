"""The exported model bundle (``onnx-<variant>/``): its manifest, ``bundle.json``, and its checksums.

Export writes a bundle, ``nerd verify`` re-checks one, and the service refuses to load one that does not
match its manifest. The manifest lists the sha256 of every other file in the directory, so one changed,
missing or added byte anywhere is found and named.

A bundle is exactly its listed regular files (and its manifest and signature): a symbolic link, a FIFO,
a device or a directory holding no listed file is reported, never followed. :func:`read_bundle` reads
every file once, through descriptors opened without following links, and hands out the very bytes it
hashed: what is loaded is what was verified, however the files on disk change meanwhile.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import json
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
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


def checksums(directory: Path) -> dict[str, str]:
    """sha256 of every file under ``directory`` but the manifest and its signature, by relative path."""
    return {
        path.relative_to(directory).as_posix(): file_sha256(path)
        for path in sorted(directory.rglob("*"))
        if path.is_file() and path.relative_to(directory).as_posix() not in {MANIFEST, SIGNATURE_FILE}
    }


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
        raise ModelBundleError(f"cannot read: {_os_reason(error)}", path=path) from None
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


@dataclass
class BundleContents:
    """A bundle as read once: its manifest, the bytes of the files that were kept, and what is wrong.

    ``files`` holds exactly the bytes whose sha256 was compared with the manifest; ``problems`` lists
    every difference (empty when the bundle is intact).
    """

    directory: Path
    manifest: Manifest
    files: dict[str, bytes] = field(default_factory=dict, repr=False)
    signature: bytes | None = field(default=None, repr=False)
    problems: list[str] = field(default_factory=list)

    @property
    def digest(self) -> str:
        return bundle_digest(self.manifest)

    def text(self, name: str) -> str | None:
        """A kept file as UTF-8 text, None when the bundle has no such file."""
        data = self.files.get(name)
        return None if data is None else data.decode("utf-8", errors="replace")

    def release(self, name: str) -> None:
        """Drop a file's bytes once they are loaded (a model of hundreds of MB need not stay twice)."""
        self.files.pop(name, None)


def read_bundle(
    directory: str | Path, *, root: Path | None = None, keep_bytes: bool = True
) -> BundleContents:
    """Read a bundle once, compare every entry with its manifest, and keep the bytes that were compared.

    ``root``: the directory must lie below it once opened (a reload from the models root). Nothing is
    followed: a link anywhere inside the bundle is a problem, not a path to read. With ``keep_bytes``
    False (``nerd verify``) files are hashed as they stream and nothing is kept.

    Raises:
        ModelBundleError: no such directory, no readable manifest, or the directory outside ``root``.
    """
    where = Path(directory)
    # A directory the caller names may be a link (models/current -> v3); one found by name below the
    # models root may not, and is checked to lie there once open.
    nofollow = os.O_NOFOLLOW if root is not None else 0
    try:
        directory_fd = os.open(where, os.O_RDONLY | os.O_DIRECTORY | nofollow)
    except OSError as error:
        reason = "a symbolic link, not a directory" if error.errno == errno.ELOOP else "not a directory"
        raise NotABundle(reason, path=where) from None
    hashes: dict[str, str] = {}
    kept: dict[str, bytes] = {}
    special: dict[str, bytes] = {}
    directories: list[str] = []
    problems: list[str] = []
    try:
        if root is not None:
            _check_below(directory_fd, root, where)
        for entry in _walk(directory_fd, "", keep_bytes):
            if entry.kind == "directory":
                directories.append(entry.name)
            elif entry.kind is not None:
                problems.append(
                    f"{entry.name}: {entry.kind}, not a regular file (a bundle holds regular files only)"
                )
            elif entry.name in {MANIFEST, SIGNATURE_FILE}:
                special[entry.name] = entry.data or b""
            else:
                hashes[entry.name] = entry.sha256
                if entry.data is not None:
                    kept[entry.name] = entry.data
    finally:
        os.close(directory_fd)
    if MANIFEST not in special:
        manifest_problem = next((p for p in problems if p.startswith(f"{MANIFEST}:")), None)
        raise NotABundle(manifest_problem or f"no {MANIFEST}: not an exported model bundle", path=where)
    manifest = parse_manifest(special[MANIFEST], where / MANIFEST)
    for name, expected in sorted(manifest.files.items()):
        if name not in hashes:
            problems.append(f"{name}: missing")
        elif hashes[name] != expected:
            problems.append(f"{name}: sha256 {hashes[name]} differs from the manifest's {expected}")
    problems.extend(f"{name}: not listed in {MANIFEST}" for name in sorted(set(hashes) - set(manifest.files)))
    problems.extend(
        f"{name}: a directory holding no listed file"
        for name in directories
        if not any(listed.startswith(name) for listed in manifest.files)
    )
    return BundleContents(where, manifest, kept, special.get(SIGNATURE_FILE), problems)


@dataclass(frozen=True)
class _Entry:
    """One entry of a bundle directory: a regular file (``kind`` None, its sha256 and maybe its bytes),
    a ``"directory"``, or anything else (``kind`` says what)."""

    name: str
    kind: str | None
    sha256: str = ""
    data: bytes | None = None


_KINDS = {
    stat.S_IFLNK: "a symbolic link",
    stat.S_IFIFO: "a FIFO",
    stat.S_IFSOCK: "a socket",
    stat.S_IFCHR: "a character device",
    stat.S_IFBLK: "a block device",
}
# Kept even when the caller keeps no bytes: small, and read again by the checks that follow.
_ALWAYS_KEPT = {MANIFEST, SIGNATURE_FILE, "config.json"}


def _walk(directory_fd: int, prefix: str, keep_bytes: bool) -> Iterator[_Entry]:
    """Every entry below a directory descriptor, in name order. Subdirectories and files are opened
    relative to their parent's descriptor and never through a link, so a path swapped meanwhile cannot
    lead outside the bundle."""
    with os.scandir(directory_fd) as listing:
        names = sorted(entry.name for entry in listing)
    for entry_name in names:
        name = prefix + entry_name
        try:
            mode = stat.S_IFMT(os.stat(entry_name, dir_fd=directory_fd, follow_symlinks=False).st_mode)
        except FileNotFoundError:
            continue  # removed while listing: the manifest check names it if it was listed
        if mode == stat.S_IFDIR:
            try:
                child = os.open(entry_name, os.O_RDONLY | os.O_DIRECTORY | os.O_NOFOLLOW, dir_fd=directory_fd)
            except OSError as error:
                yield _Entry(name + "/", f"a directory that cannot be opened ({_os_reason(error)})")
                continue
            try:
                yield _Entry(name + "/", "directory")
                yield from _walk(child, name + "/", keep_bytes)
            finally:
                os.close(child)
            continue
        if mode != stat.S_IFREG:
            yield _Entry(name, _KINDS.get(mode, "not a regular file"))
            continue
        try:
            # O_NONBLOCK: a FIFO swapped in after the stat must not hang the open.
            fd = os.open(entry_name, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK, dir_fd=directory_fd)
        except OSError as error:
            yield _Entry(name, f"unreadable ({_os_reason(error)})")
            continue
        with os.fdopen(fd, "rb") as stream:
            opened = stat.S_IFMT(os.fstat(fd).st_mode)
            if opened != stat.S_IFREG:
                yield _Entry(name, _KINDS.get(opened, "not a regular file"))
                continue
            os.set_blocking(fd, True)
            digest = hashlib.sha256()
            chunks: list[bytes] = []
            keep = keep_bytes or name in _ALWAYS_KEPT
            for chunk in iter(lambda: stream.read(1 << 20), b""):
                digest.update(chunk)
                if keep:
                    chunks.append(chunk)
        yield _Entry(name, None, digest.hexdigest(), b"".join(chunks) if keep else None)


def _check_below(directory_fd: int, root: Path, where: Path) -> None:
    """The opened directory (whatever its path said) must be below ``root``."""
    try:
        actual = Path(os.readlink(f"/proc/self/fd/{directory_fd}"))
    except OSError:
        return  # no /proc (not Linux): the caller's resolved-path check stands alone
    base = root.resolve()
    if actual == base or not actual.is_relative_to(base):
        raise NotABundle("not below the models root", path=where)


@contextlib.contextmanager
def _open_nofollow(path: Path) -> Iterator[Any]:
    fd = os.open(path, os.O_RDONLY | os.O_NOFOLLOW | os.O_NONBLOCK)
    if not stat.S_ISREG(os.fstat(fd).st_mode):
        os.close(fd)
        raise OSError(errno.EINVAL, "not a regular file")
    os.set_blocking(fd, True)
    with os.fdopen(fd, "rb") as stream:
        yield stream


def _os_reason(error: OSError) -> str:
    if error.errno == errno.ELOOP:
        return "a symbolic link, not a regular file"
    return error.strerror or str(error)


def find_mismatches(directory: str | Path) -> list[str]:
    """Every difference between a bundle's entries and its manifest, one message per entry; [] when
    intact."""
    return read_bundle(directory, keep_bytes=False).problems


def verified_manifest(directory: str | Path) -> Manifest:
    """The manifest of a bundle whose files all match it.

    Raises:
        ModelBundleError: naming the first altered, missing or extra file (and how many more there are).
    """
    return verified_bundle(directory, keep_bytes=False).manifest


def verified_bundle(
    directory: str | Path, *, root: Path | None = None, keep_bytes: bool = True
) -> BundleContents:
    """:func:`read_bundle`, raising on the first problem: an intact bundle and the bytes it was checked by.

    Raises:
        ModelBundleError: naming the first altered, missing or extra entry (and how many more there are).
    """
    contents = read_bundle(directory, root=root, keep_bytes=keep_bytes)
    if contents.problems:
        problems = contents.problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        raise ModelBundleError(problems[0] + more, path=directory)
    if MODEL_FILE not in contents.manifest.files:
        raise ModelBundleError(f"the manifest lists no {MODEL_FILE}", path=directory)
    openvino = contents.manifest.openvino
    for name in (openvino.model, openvino.weights) if openvino is not None else ():
        if name not in contents.manifest.files:
            raise ModelBundleError(f"the manifest lists no {name}", path=directory, field="openvino")
    check_labels_agree(directory, contents.manifest, contents.files.get("config.json"))
    return contents


def check_labels_agree(directory: str | Path, manifest: Manifest, config: bytes | None) -> None:
    """The manifest's label list must be the model's own, as its ``config.json`` (``id2label``) gives it:
    a list edited in ``bundle.json`` alone (two labels swapped, one dropped) would make every answer of
    those types wrong without an error anywhere. ``config`` is ``config.json``'s bytes as read with the
    rest of the bundle (None: the bundle has none).

    Raises:
        ModelBundleError: the two lists differ (in length or in order).
    """
    if config is None:
        return
    try:
        parsed = json.loads(config.decode("utf-8"))
        id2label = parsed.get("id2label") if isinstance(parsed, dict) else None
        model_labels = (
            [id2label[key] for key in sorted(id2label, key=int)] if isinstance(id2label, dict) else None
        )
    except (ValueError, TypeError, KeyError, RecursionError) as error:
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
