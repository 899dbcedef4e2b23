"""Which library runs an exported bundle: the choice ``--runtime`` / ``NERD_RUNTIME`` makes.

onnxruntime is the default everywhere. OpenVINO runs the bundle's own OpenVINO model (``nerd export
--openvino``) when asked: it won on one CPU and lost on another (docs/speed.md), so nothing picks it
by itself.
"""

from __future__ import annotations

from typing import Literal

Runtime = Literal["onnxruntime", "openvino"]
RUNTIMES: tuple[str, ...] = ("onnxruntime", "openvino")
RUNTIME_HELP = (
    "What runs a bundle: onnxruntime (the default), or openvino: the bundle's OpenVINO model (written by "
    "nerd export --openvino; needs nerd[openvino]); faster than onnxruntime on a Xeon with AVX-512 VNNI, "
    "slower on an AVX2-only EPYC (docs/speed.md)."
)
