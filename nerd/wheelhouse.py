"""A wheelhouse: every wheel an install of nerd needs, with hashes, to carry into a closed network.

On a connected machine ``pip wheel`` resolves nerd with the chosen extras and leaves one wheel per
distribution (sdists such as seqeval's are built into wheels here, so nothing needs building inside).
``requirements.txt`` pins each wheel by version and sha256, so inside the network
``pip install --no-index --find-links DIR --require-hashes -r DIR/requirements.txt`` installs exactly
what was carried, and ``SHA256SUMS`` lets anyone check the copy with ``sha256sum -c``. Wheels are built
for the platform and Python that run the command: build on the target's platform (or in the image).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from nerd.atomic import atomic_write_text
from nerd.checksums import file_sha256
from nerd.default_model import DEFAULT_MODEL_NAME, default_model_dir
from nerd.errors import ConfigError, NerdError

EXTRAS = ("cpu", "gpu", "openvino", "annotate", "train", "export", "openvino-export", "review", "dev")
# name-version(-build)?-python-abi-platform.whl, with names normalised as wheels spell them.
_WHEEL_NAME = re.compile(r"^(?P<name>[^-]+)-(?P<version>[^-]+)(-\d[^-]*)?-[^-]+-[^-]+-[^-]+\.whl$")


class WheelhouseError(NerdError):
    """pip could not resolve, download or build what the wheelhouse needs."""


@dataclass(frozen=True)
class Wheel:
    path: Path
    name: str
    version: str
    sha256: str


def project_root() -> Path:
    """The checkout nerd runs from (its pyproject.toml is what gets built).

    Raises:
        ConfigError: nerd was installed from a wheel, with no source tree to build from.
    """
    root = Path(__file__).resolve().parent.parent
    if not (root / "pyproject.toml").is_file():
        raise ConfigError(f"no pyproject.toml in {root}: run nerd wheelhouse from a checkout of nerd")
    return root


def parse_wheel_name(path: Path) -> tuple[str, str]:
    """(normalised name, version) of a wheel file name.

    >>> parse_wheel_name(Path("onnxruntime-1.20.1-cp311-cp311-manylinux_2_27_x86_64.whl"))
    ('onnxruntime', '1.20.1')
    >>> parse_wheel_name(Path("Typer_Slim-0.12.0-py3-none-any.whl"))
    ('typer-slim', '0.12.0')
    """
    match = _WHEEL_NAME.match(path.name)
    if match is None:
        raise WheelhouseError(f"{path.name}: not a wheel file name")
    return re.sub(r"[-_.]+", "-", match["name"]).lower(), match["version"]


def collect_wheels(directory: Path) -> list[Wheel]:
    """Every wheel in ``directory`` with its checksum, sorted by name."""
    wheels = []
    for path in sorted(directory.glob("*.whl")):
        name, version = parse_wheel_name(path)
        wheels.append(Wheel(path, name, version, file_sha256(path)))
    return wheels


def requirements_text(wheels: Sequence[Wheel], extras: Sequence[str]) -> str:
    """A ``--require-hashes`` requirements file: nerd with its extras, then every dependency pinned."""
    lines = ["# Install inside the network (no index):", "#   pip install --no-index --find-links . "
             "--require-hashes -r requirements.txt", ""]  # fmt: skip
    for wheel in wheels:
        name = wheel.name
        if name == "nerd" and extras:
            name = f"nerd[{','.join(extras)}]"
        lines.append(f"{name}=={wheel.version} --hash=sha256:{wheel.sha256}")
    return "\n".join(lines) + "\n"


def checksums_text(directory: Path) -> str:
    """``sha256sum`` lines of every file under ``directory`` (relative paths), for ``sha256sum -c``."""
    files = sorted(p for p in directory.rglob("*") if p.is_file() and p.name != "SHA256SUMS")
    return "".join(f"{file_sha256(p)}  {p.relative_to(directory).as_posix()}\n" for p in files)


def _pip(arguments: list[str]) -> None:
    command = [sys.executable, "-m", "pip", *arguments]
    completed = subprocess.run(command, capture_output=True, text=True, check=False)
    if completed.returncode != 0:
        tail = "\n".join((completed.stderr or completed.stdout).strip().splitlines()[-15:])
        raise WheelhouseError(f"`{' '.join(command[2:])}` failed (exit {completed.returncode}):\n{tail}")


_OURS = {"requirements.txt", "SHA256SUMS", "README.md", "models"}


def _clear_previous(out: Path) -> None:
    """Remove the wheels of an earlier run, whose old versions would contradict the new pins.

    Raises:
        ConfigError: ``out`` holds something a wheelhouse does not (it is never deleted).
    """
    if not out.exists():
        return
    if not out.is_dir():
        raise ConfigError(f"{out} exists and is not a directory")
    foreign = sorted(p.name for p in out.iterdir() if p.suffix != ".whl" and p.name not in _OURS)
    if foreign:
        raise ConfigError(
            f"{out} holds files that are not a wheelhouse's ({', '.join(foreign[:5])}): "
            "use an empty directory"
        )
    for wheel in out.glob("*.whl"):
        wheel.unlink()


def build_wheelhouse(out: Path, extras: Sequence[str], *, include_model: bool = True) -> list[Wheel]:
    """Fill ``out`` with the wheels of ``nerd[extras]``, requirements.txt, SHA256SUMS and the model.

    Raises:
        ConfigError: an unknown extra, or no checkout to build nerd from.
        WheelhouseError: pip failed (its last lines are in the message).
    """
    unknown = sorted(set(extras) - set(EXTRAS))
    if unknown:
        raise ConfigError(f"unknown extra {', '.join(unknown)}; known: {', '.join(EXTRAS)}")
    if "cpu" in extras and "gpu" in extras:
        raise ConfigError("cpu and gpu install the same onnxruntime module: choose one")
    root = project_root()
    _clear_previous(out)
    out.mkdir(parents=True, exist_ok=True)
    target = f"{root}[{','.join(extras)}]" if extras else str(root)
    _pip(["wheel", "--disable-pip-version-check", "--wheel-dir", str(out), target])
    wheels = collect_wheels(out)
    atomic_write_text(out / "requirements.txt", requirements_text(wheels, extras))
    model = default_model_dir()
    if include_model and model is not None:
        destination = out / "models" / DEFAULT_MODEL_NAME
        if destination.exists():
            shutil.rmtree(destination)
        shutil.copytree(model, destination)
    atomic_write_text(out / "SHA256SUMS", checksums_text(out))
    return wheels
