"""Reading a bundle directory once, through descriptors that never follow a link.

A bundle is exactly its listed regular files (and its manifest and signature): a symbolic link, a FIFO,
a device or a directory holding no listed file is reported, never followed. :func:`read_bundle` reads
every file once and hands out the very bytes it hashed: what is loaded is what was verified, however the
files on disk change meanwhile. :func:`checksums` walks a directory the same way when a bundle is made.
"""

from __future__ import annotations

import errno
import hashlib
import os
import stat
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

from nerd.model_bundle import (
    MANIFEST,
    SIGNATURE_FILE,
    Manifest,
    NotABundle,
    bundle_digest,
    os_reason,
    parse_manifest,
)


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
                yield _Entry(name + "/", f"a directory that cannot be opened ({os_reason(error)})")
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
            yield _Entry(name, f"unreadable ({os_reason(error)})")
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


def checksums(directory: Path) -> dict[str, str]:
    """sha256 of every regular file under ``directory`` but the manifest and its signature, by relative
    path: the ``files`` of the manifest a bundle is made with (walked as :func:`read_bundle` walks)."""
    fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    try:
        return {
            entry.name: entry.sha256
            for entry in _walk(fd, "", keep_bytes=False)
            if entry.kind is None and entry.name not in {MANIFEST, SIGNATURE_FILE}
        }
    finally:
        os.close(fd)
