"""One rule for a good bundle: what ``nerd verify`` accepts, ``nerd serve`` loads; what it refuses, the
service refuses for the same reasons (``nerd.bundle_checks``).

On 722a394 a manifest that listed no ``model.onnx`` passed ``nerd verify`` and was refused by
``nerd serve``: ``verify`` rebuilt the rule from parts and left that check out.
"""

import hashlib
import json
import os
import shutil

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from typer.testing import CliRunner

from nerd.cli.main import app
from nerd.errors import ModelBundleError

pytest.importorskip("onnxruntime")
runner = CliRunner()


def rehash(copy):
    """Make bundle.json's checksums those of the files as they are now (an edit that hides itself)."""
    manifest = json.loads((copy / "bundle.json").read_text())
    for name in manifest["files"]:
        if (copy / name).is_file():
            manifest["files"][name] = hashlib.sha256((copy / name).read_bytes()).hexdigest()
    (copy / "bundle.json").write_text(json.dumps(manifest, indent=2))


def edit_manifest(copy, change):
    manifest = json.loads((copy / "bundle.json").read_text())
    change(manifest)
    (copy / "bundle.json").write_text(json.dumps(manifest, indent=2))


def unlist_model(copy):
    """The bug: model.onnx neither present nor listed, everything else intact."""
    (copy / "model.onnx").unlink()
    edit_manifest(copy, lambda manifest: manifest["files"].pop("model.onnx"))


def flip_a_byte(copy):
    data = bytearray((copy / "tokenizer.json").read_bytes())
    data[10] ^= 0x01
    (copy / "tokenizer.json").write_bytes(bytes(data))


def swap_labels(copy):
    edit_manifest(
        copy, lambda manifest: manifest.update(labels=[*manifest["labels"][1:], manifest["labels"][0]])
    )


def edit_model_labels(copy):
    config = json.loads((copy / "config.json").read_text())
    config["id2label"] = {"0": "O"}
    (copy / "config.json").write_text(json.dumps(config))
    rehash(copy)


def link_vocab(copy):
    target = copy.parent / f"{copy.name}-vocab.txt"
    shutil.copy(copy / "vocab.txt", target)
    (copy / "vocab.txt").unlink()
    (copy / "vocab.txt").symlink_to(target)


def list_openvino_without_its_files(copy):
    openvino = {"quantization": {}, "verification": {}}
    edit_manifest(copy, lambda manifest: manifest.update(openvino=openvino))


MUTATIONS = {
    "nothing": lambda copy: None,
    "model.onnx unlisted": unlist_model,
    "a byte flipped": flip_a_byte,
    "a listed file deleted": lambda copy: (copy / "vocab.txt").unlink(),
    "an unlisted file added": lambda copy: (copy / "notes.txt").write_text("hello"),
    "an empty directory": lambda copy: (copy / "empty").mkdir(),
    "a file made a link": link_vocab,
    "labels swapped in bundle.json": swap_labels,
    "the model's labels edited and rehashed": edit_model_labels,
    "an OpenVINO model listed without its files": list_openvino_without_its_files,
    "bundle.json cut off": lambda copy: (copy / "bundle.json").write_bytes(
        (copy / "bundle.json").read_bytes()[:50]
    ),
    "bundle.json removed": lambda copy: (copy / "bundle.json").unlink(),
}


def verify_says(copy):
    """(accepted, the problems nerd verify printed, without the FAIL and path prefix)."""
    result = runner.invoke(app, ["verify", str(copy)])
    lines = [line.removeprefix("FAIL ") for line in result.output.splitlines() if line.startswith("FAIL")]
    return result.exit_code == 0, sorted(line.removeprefix(f"{copy}: ") for line in lines)


def serve_says(copy):
    """(loaded, the problems the service's loader refused it for)."""
    from nerd.service.model_holder import load_engine
    from nerd.service.settings import ServiceSettings

    try:
        load_engine(copy, ServiceSettings(_env_file=None, model_dir=copy, max_batch_size=2))
    except ModelBundleError as error:
        problems = getattr(error, "problems", None)
        return False, sorted(problems) if problems is not None else [str(error).removeprefix(f"{copy}: ")]
    return True, []


def test_a_manifest_that_lists_no_model_is_refused_by_verify_as_by_serve(bundle, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    unlist_model(copy)
    assert verify_says(copy) == (False, ["the manifest lists no model.onnx"])
    assert serve_says(copy) == (False, ["the manifest lists no model.onnx"])


def test_verify_prints_every_problem_not_only_the_first(bundle, tmp_path):
    copy = tmp_path / "copy"
    shutil.copytree(bundle, copy)
    unlist_model(copy)
    flip_a_byte(copy)
    (copy / "notes.txt").write_text("x")
    accepted, problems = verify_says(copy)
    assert not accepted and len(problems) == 3, problems
    assert serve_says(copy)[1] == problems


@settings(max_examples=30, deadline=None, suppress_health_check=list(HealthCheck))
@given(st.lists(st.sampled_from(sorted(MUTATIONS)), min_size=1, max_size=3, unique=True))
def test_what_verify_accepts_serve_loads_and_what_it_refuses_serve_refuses_alike(
    bundle, tmp_path_factory, names
):
    copy = tmp_path_factory.mktemp("mutated") / "onnx-fp32"
    shutil.copytree(bundle, copy)
    # The manifest's own damage last: the other mutations read it.
    for name in sorted(names, key=lambda name: name.startswith("bundle.json")):
        MUTATIONS[name](copy)
    verdict = verify_says(copy)
    assert serve_says(copy) == verdict, names
    assert verdict[0] == (set(names) == {"nothing"}), (names, verdict)
    for leftover in copy.parent.glob("*-vocab.txt"):
        os.unlink(leftover)
