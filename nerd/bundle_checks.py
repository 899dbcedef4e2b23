"""Whether a bundle may be served: one rule for ``nerd verify``, ``nerd serve`` and every loader.

:func:`bundle_problems` collects every reason a bundle read by :func:`~nerd.bundle_reading.read_bundle`
may not be served (optimum's ``validate_model_outputs`` pattern: all failures, then one decision):
each file against the manifest, the files the manifest must list, the label list against the model's
own and, given a public key, the signature. ``nerd verify`` prints them all; :func:`verified_bundle`
raises :class:`BundleRefused` with the same list.
"""

from __future__ import annotations

import json
from pathlib import Path

from nerd.bundle_reading import BundleContents, read_bundle
from nerd.bundle_signature import signature_problem
from nerd.errors import ModelBundleError
from nerd.model_bundle import MODEL_FILE, Manifest


class BundleRefused(ModelBundleError):
    """A bundle that may not be served; ``problems`` holds every reason, the message the first."""

    def __init__(self, problems: list[str], *, path: str | Path) -> None:
        self.problems = problems
        more = f" (and {len(problems) - 1} more)" if len(problems) > 1 else ""
        super().__init__(problems[0] + more, path=path)


def bundle_problems(contents: BundleContents, public_key: Path | None = None) -> list[str]:
    """Every reason the bundle may not be served; [] for one that may.

    Raises:
        ConfigError: a public key that is not a readable Ed25519 key (no bundle's fault).
    """
    manifest = contents.manifest
    problems = list(contents.problems)
    if MODEL_FILE not in manifest.files:
        problems.append(f"the manifest lists no {MODEL_FILE}")
    openvino = manifest.openvino
    for name in (openvino.model, openvino.weights) if openvino is not None else ():
        if name not in manifest.files:
            problems.append(f"the manifest's openvino model lists no {name}")
    labels = labels_problem(manifest, contents.files.get("config.json"))
    if labels is not None:
        problems.append(labels)
    if public_key is not None:
        signature = signature_problem(contents, public_key)
        if signature is not None:
            problems.append(signature)
    return problems


def verified_bundle(
    directory: str | Path,
    *,
    root: Path | None = None,
    keep_bytes: bool = True,
    public_key: Path | None = None,
) -> BundleContents:
    """:func:`read_bundle` of a bundle with no problem: its contents and the bytes it was checked by.

    Raises:
        ModelBundleError: no bundle there; BundleRefused (a ModelBundleError): every problem it has.
    """
    contents = read_bundle(directory, root=root, keep_bytes=keep_bytes)
    problems = bundle_problems(contents, public_key)
    if problems:
        raise BundleRefused(problems, path=directory)
    return contents


def labels_problem(manifest: Manifest, config: bytes | None) -> str | None:
    """The manifest's label list must be the model's own, as its ``config.json`` (``id2label``) gives it:
    a list edited in ``bundle.json`` alone (two labels swapped, one dropped) would make every answer of
    those types wrong without an error anywhere. ``config`` is ``config.json``'s bytes as read with the
    rest of the bundle (None: the bundle has none).

    Returns what is wrong, or None: the two lists agree (or the model states none).
    """
    if config is None:
        return None
    try:
        parsed = json.loads(config.decode("utf-8"))
        id2label = parsed.get("id2label") if isinstance(parsed, dict) else None
        model_labels = (
            [id2label[key] for key in sorted(id2label, key=int)] if isinstance(id2label, dict) else None
        )
    except (ValueError, TypeError, KeyError, RecursionError) as error:
        return f"config.json: unreadable id2label ({error})"
    if model_labels is None or list(manifest.labels) == model_labels:
        return None
    return (
        f"labels: bundle.json lists {len(manifest.labels)} labels {list(manifest.labels)[:10]}, but the "
        f"model (config.json id2label) has {len(model_labels)}: {model_labels[:10]}; "
        "the label list was edited"
    )
