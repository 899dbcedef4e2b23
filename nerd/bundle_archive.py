"""One ``.tar.gz`` of exported bundles to carry into a closed network, and its safe unpacking.

``pack`` writes ``NAME.tar.gz`` and ``NAME.tar.gz.sha256`` (``sha256sum`` format, so ``sha256sum -c``
checks it too). ``unpack`` checks that sum, refuses any member that is not a plain file or directory or
whose path would land outside the target directory, extracts into a staging directory, re-verifies
every bundle's manifest, and only then moves the bundles into place.
"""

from __future__ import annotations

import os
import re
import shutil
import tarfile
import tempfile
from collections.abc import Sequence
from pathlib import Path, PurePosixPath

from nerd.atomic import OutputError, atomic_write_text, atomic_writer
from nerd.bundle_checks import verified_bundle
from nerd.checksums import file_sha256
from nerd.errors import ModelBundleError

SUM_SUFFIX = ".sha256"


def pack(bundles: Sequence[Path], archive: Path) -> str:
    """Write ``archive`` (gzip tar of each bundle directory by its name) and its sum; returns the sum."""
    for bundle in bundles:
        verified_bundle(bundle, keep_bytes=False)
    with atomic_writer(archive, binary=True) as stream, tarfile.open(fileobj=stream, mode="w:gz") as tar:
        for bundle in bundles:
            for path in sorted(bundle.rglob("*")):
                if path.is_file():
                    info = tar.gettarinfo(
                        str(path), arcname=f"{bundle.name}/{path.relative_to(bundle).as_posix()}"
                    )
                    # Carried between organisations: no local user names or ids in the archive.
                    info.uid = info.gid = 0
                    info.uname = info.gname = ""
                    with path.open("rb") as handle:
                        tar.addfile(info, handle)
    digest = file_sha256(archive)
    atomic_write_text(archive.with_name(archive.name + SUM_SUFFIX), f"{digest}  {archive.name}\n")
    return digest


def _expected_sum(archive: Path) -> str:
    sum_file = archive.with_name(archive.name + SUM_SUFFIX)
    try:
        text = sum_file.read_text(encoding="utf-8")
    except FileNotFoundError:
        raise ModelBundleError(f"no {sum_file.name} beside the archive", path=archive) from None
    except (OSError, UnicodeDecodeError) as error:
        raise ModelBundleError(f"cannot read: {error}", path=sum_file) from None
    match = re.fullmatch(r"([0-9a-f]{64})[ \t]+\*?(\S.*)\n?", text)
    if not match:
        raise ModelBundleError("not a sha256sum line", path=sum_file, line=1)
    return match.group(1)


def _safe_members(tar: tarfile.TarFile, archive: Path) -> list[tarfile.TarInfo]:
    members = []
    for member in tar.getmembers():
        name = PurePosixPath(member.name)
        if name.is_absolute() or ".." in name.parts or not name.parts:
            raise ModelBundleError(
                f"member {member.name!r} points outside the target directory", path=archive
            )
        if not (member.isfile() or member.isdir()):
            raise ModelBundleError(f"member {member.name!r} is not a plain file or directory", path=archive)
        if len(name.parts) < 2:
            raise ModelBundleError(f"member {member.name!r} is not inside a bundle directory", path=archive)
        members.append(member)
    return members


def unpack(archive: Path, target: Path, *, force: bool = False) -> list[Path]:
    """Unpack a checked archive into ``target``; returns the installed bundle directories.

    Raises:
        ModelBundleError: a sum that does not match, an unsafe member, a bundle whose files do not match
            its manifest, an archive that is not a gzip tar.
        OutputError: a bundle that already exists in ``target`` (unless ``force``), an unwritable target.
    """
    expected = _expected_sum(archive)
    actual = file_sha256(archive)
    if actual != expected:
        raise ModelBundleError(
            f"sha256 {actual} differs from the {SUM_SUFFIX} file's {expected}", path=archive
        )
    try:
        target.mkdir(parents=True, exist_ok=True)
        staging = Path(tempfile.mkdtemp(prefix=".unpack-", dir=target))
    except OSError as error:
        raise OutputError(f"{target}: cannot write: {error.strerror or error}") from None
    try:
        try:
            with tarfile.open(archive, mode="r:gz") as tar:
                members = _safe_members(tar, archive)
                tar.extractall(staging, members=members, filter="data")
        except (tarfile.TarError, EOFError, OSError) as error:
            raise ModelBundleError(f"cannot unpack: {error}", path=archive) from None
        bundles = sorted(path for path in staging.iterdir() if path.is_dir())
        for bundle in bundles:
            verified_bundle(bundle, keep_bytes=False)
        clashes = [target / b.name for b in bundles if (target / b.name).exists()]
        if clashes and not force:
            raise OutputError(f"{', '.join(map(str, clashes))}: already exists (--force replaces it)")
        installed = []
        for bundle in bundles:
            destination = target / bundle.name
            # Swap rather than delete first: a service reading the old bundle never sees it half gone.
            old = staging / f"{bundle.name}.replaced"
            if destination.exists():
                os.replace(destination, old)
            os.replace(bundle, destination)
            installed.append(destination)
        return installed
    finally:
        shutil.rmtree(staging, ignore_errors=True)
