"""Where a run computes and in which precision.

On CPUs with native bf16 (AMX or AVX512-BF16: Sapphire Rapids and newer, Zen 4) autocast to bf16 runs
the encoder's matrix products several times faster than fp32; elsewhere bf16 is emulated and slower, so
``auto`` picks it only where the hardware has it. Weights and optimizer state stay fp32 either way.
"""

from __future__ import annotations

import functools
import os
from pathlib import Path

from nerd.errors import ConfigError

_CPU_BF16_FLAGS = {"amx_bf16", "avx512_bf16"}


@functools.cache
def cpu_has_native_bf16() -> bool:
    """Whether this CPU computes bf16 in hardware (Linux /proc/cpuinfo flags; False where unknown)."""
    try:
        text = Path("/proc/cpuinfo").read_text(encoding="utf-8", errors="replace")
    except OSError:
        return False
    for line in text.splitlines():
        if line.startswith("flags"):
            return bool(_CPU_BF16_FLAGS & set(line.split(":", 1)[1].split()))
    return False


def available_cores() -> int:
    """Cores this process may run on (the affinity mask, not the machine's total)."""
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


def resolve_device(requested: str) -> str:
    """``cpu`` or ``cuda`` for ``auto``, ``cpu`` or ``cuda``.

    Raises:
        ConfigError: CUDA asked for where torch sees no GPU.
    """
    import torch

    if requested == "auto":
        return "cuda" if torch.cuda.is_available() else "cpu"
    if requested == "cuda" and not torch.cuda.is_available():
        raise ConfigError("--device cuda was asked for, but torch sees no CUDA device")
    return requested


def resolve_precision(requested: str, device: str) -> str:
    """``fp32``, ``bf16`` or ``fp16`` for the requested precision on ``device``.

    Raises:
        ConfigError: fp16 on a CPU, or bf16 on a GPU without it.
    """
    import torch

    if requested == "auto":
        if device == "cuda":
            return "bf16" if torch.cuda.is_bf16_supported() else "fp32"
        return "bf16" if cpu_has_native_bf16() else "fp32"
    if requested == "fp16" and device == "cpu":
        raise ConfigError("fp16 mixed precision needs a GPU; use bf16 or fp32 on a CPU")
    if requested == "bf16" and device == "cuda" and not torch.cuda.is_bf16_supported():
        raise ConfigError("this GPU has no bf16; use fp16 or fp32")
    return requested
