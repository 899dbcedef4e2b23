"""A bundle is exactly its listed regular files, and what loads is what was verified (issue 25, 1-3).

Each test here failed on fa6c330: a reload raced with a swapped model.onnx served the unsigned model
under the signed digest; file links out of the models root were followed; nerd verify passed bundles
with links, an empty directory or a FIFO in them.
"""

import os
import shutil
import threading
from unittest import mock

import numpy as np
import pytest
from typer.testing import CliRunner

from nerd.bundle_checks import verified_bundle
from nerd.bundle_reading import read_bundle
from nerd.cli.main import app
from nerd.errors import ModelBundleError

runner = CliRunner()
ADMIN = {"Authorization": "Bearer admin"}


def signed_copy(bundle, tmp_path, name="signed"):
    key = tmp_path / "signer.pem"
    if not key.exists():
        assert runner.invoke(app, ["sign", "--generate-key", str(key)]).exit_code == 0
    copy = tmp_path / "models" / name
    shutil.copytree(bundle, copy)
    assert runner.invoke(app, ["sign", str(copy), "--private-key", str(key)]).exit_code == 0
    return copy, tmp_path / "signer.pem.pub"


def fixed_logits(engine):
    windows = engine.encoder.encode([["Alma", "visited", "Quenby", "."]])
    return engine.logits(windows)


def test_a_model_swapped_during_reloads_is_never_served_under_the_signed_digest(
    bundle, exported_bundles, tmp_path
):
    """The probe's race: model.onnx renamed back and forth between the signed file and another model
    while reloading. Every reload that succeeds must run the signed bytes."""
    from nerd.service.model_holder import ModelHolder
    from nerd.service.settings import ServiceSettings

    copy, public = signed_copy(bundle, tmp_path)
    out, _, _ = exported_bundles
    store = tmp_path / "store"
    store.mkdir()
    shutil.copy(copy / "model.onnx", store / "signed.onnx")
    shutil.copy(out / "onnx-int8" / "model.onnx", store / "other.onnx")
    settings = ServiceSettings(
        _env_file=None,
        model_dir=copy,
        require_signature=True,
        public_key_file=public,
        threads=1,
        max_batch_size=1,
    )
    holder = ModelHolder(settings, copy)
    holder.load()
    expected = fixed_logits(holder.require())
    stop = threading.Event()

    def swap():
        turn = 0
        while not stop.is_set():
            source = store / ("other.onnx" if turn % 2 == 0 else "signed.onnx")
            # Staged outside the bundle: a staged name inside it is a file bundle.json does not list,
            # which refuses the reload for another reason than the swap (on a busy machine, every one).
            staged = store / f".swap-{turn}"
            os.link(source, staged)
            os.replace(staged, copy / "model.onnx")
            turn += 1

    swapper = threading.Thread(target=swap, daemon=True)
    swapper.start()
    served = refused = 0
    try:
        for _ in range(60):
            try:
                engine = holder.reload()
            except ModelBundleError:
                refused += 1
                continue
            served += 1
            assert np.array_equal(fixed_logits(engine), expected), (
                "a reload served a model that was not signed"
            )
    finally:
        stop.set()
        swapper.join()
    assert served + refused == 60 and served > 0


def test_files_linked_out_of_the_models_root_are_not_loaded(make_client, bundle, tmp_path):
    outside = tmp_path / "outside" / "evil"
    shutil.copytree(bundle, outside)
    root = tmp_path / "models"
    linked = root / "c"
    linked.mkdir(parents=True)
    for entry in outside.iterdir():
        (linked / entry.name).symlink_to(entry)
    with make_client(models_root=root, admin_keys=["admin"]) as client:
        refused = client.post("/v1/admin/reload", json={"model_dir": "c"}, headers=ADMIN)
        assert refused.status_code == 409, refused.text
        # Its manifest is a link too: to the caller it holds no bundle, whatever lies behind it.
        assert "no bundle by that name" in refused.json()["detail"] and str(tmp_path) not in refused.text
        assert client.get("/v1/model").json()["name"] != "evil"
    result = runner.invoke(app, ["verify", str(linked)])
    assert result.exit_code == 1 and "symbolic link" in result.output


def changed_bundles(bundle, tmp_path):
    """The probe's changes that kept every listed file's bytes: each must be reported."""
    outside = tmp_path / "outside"
    outside.mkdir()
    shutil.copy(bundle / "vocab.txt", outside / "vocab.txt")
    (outside / "extra").mkdir()
    (outside / "extra" / "note.txt").write_text("not part of the bundle")

    def variant(name, change):
        copy = tmp_path / "variants" / name
        shutil.copytree(bundle, copy)
        change(copy)
        return copy

    def link_file(copy):
        (copy / "vocab.txt").unlink()
        (copy / "vocab.txt").symlink_to(outside / "vocab.txt")

    return {
        "a symlinked subdirectory": variant("subdir", lambda c: (c / "extra").symlink_to(outside / "extra")),
        "a file replaced by a link to an identical file": variant("link", link_file),
        "an empty directory": variant("empty", lambda c: (c / "empty").mkdir()),
        "a FIFO": variant("fifo", lambda c: os.mkfifo(c / "pipe")),
    }


def test_nerd_verify_reports_links_fifos_and_empty_directories(bundle, tmp_path):
    for what, copy in changed_bundles(bundle, tmp_path).items():
        problems = read_bundle(copy, keep_bytes=False).problems
        assert problems, what
        result = runner.invoke(app, ["verify", str(copy)])
        assert result.exit_code == 1, (what, result.output)
        with pytest.raises(ModelBundleError):
            verified_bundle(copy, keep_bytes=False)


def test_a_required_signature_refuses_the_same_changes(bundle, tmp_path):
    copy, public = signed_copy(bundle, tmp_path)
    assert runner.invoke(app, ["verify", str(copy), "--public-key", str(public)]).exit_code == 0
    serve = ["serve", "--require-signature", "--model"]
    for what, changed in changed_bundles(copy, tmp_path).items():
        # The signature still matches the manifest: only the entries changed.
        result = runner.invoke(app, ["verify", str(changed), "--public-key", str(public)])
        assert result.exit_code == 1, (what, result.output)
        # nerd serve hands its settings to its workers through os.environ; keep them out of the suite.
        with mock.patch.dict(os.environ, clear=False):
            served = runner.invoke(app, [*serve, str(changed), "--public-key", str(public), "--port", "1"])
        assert served.exit_code == 1, (what, served.output)
