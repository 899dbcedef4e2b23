"""A bundle's label list must be its model's (issue 19, item 3): an edited list is refused everywhere,
with a reason, never a traceback or a 500."""

import json
import os
import shutil
from unittest import mock

import pytest
from typer.testing import CliRunner

from nerd.bundle_checks import verified_bundle
from nerd.bundle_reading import checksums
from nerd.cli.main import app
from nerd.errors import ModelBundleError
from nerd.model_bundle import MANIFEST, read_manifest
from nerd.tagging.onnx_tagger import OnnxTagger


def edited_copy(bundle, tmp_path, labels, *, config_too=False):
    copy = tmp_path / "edited"
    shutil.copytree(bundle, copy)
    if config_too:
        config = json.loads((copy / "config.json").read_text())
        config["id2label"] = {str(i): label for i, label in enumerate(labels)}
        config["label2id"] = {label: i for i, label in enumerate(labels)}
        (copy / "config.json").write_text(json.dumps(config))
    manifest = read_manifest(copy).model_copy(update={"labels": labels, "files": checksums(copy)})
    (copy / MANIFEST).write_text(manifest.model_dump_json())
    return copy


def swapped(labels):
    labels = list(labels)
    first, second = labels.index("B-PER"), labels.index("B-LOC")
    labels[first], labels[second] = labels[second], labels[first]
    return labels


def test_labels_swapped_in_bundle_json_are_refused_by_verify(bundle, tmp_path):
    copy = edited_copy(bundle, tmp_path, swapped(read_manifest(bundle).labels))
    with pytest.raises(ModelBundleError, match="label list was edited"):
        verified_bundle(copy, keep_bytes=False)
    result = CliRunner().invoke(app, ["verify", str(copy)])
    assert result.exit_code == 1 and "labels" in result.output


def test_a_label_list_the_model_does_not_score_is_refused_at_load(bundle, tmp_path):
    labels = list(read_manifest(bundle).labels)[:-1]
    copy = edited_copy(bundle, tmp_path, labels, config_too=True)  # consistent files, wrong width
    with pytest.raises(
        ModelBundleError, match=f"scores {len(labels) + 1} labels, bundle.json lists {len(labels)}"
    ):
        OnnxTagger(copy, threads=1)


def test_a_reload_of_a_bundle_with_wrong_labels_is_a_409_and_counted(make_client, bundle, tmp_path):
    copy = edited_copy(bundle, tmp_path, list(read_manifest(bundle).labels)[:-1], config_too=True)
    with make_client(admin_keys=["admin-key"], models_root=tmp_path) as client:
        admin = {"Authorization": "Bearer admin-key"}
        refused = client.post("/v1/admin/reload", json={"model_dir": str(copy)}, headers=admin)
        assert refused.status_code == 409 and "labels" in refused.json()["detail"]
        assert 'nerd_reloads_total{outcome="failed"} 1' in client.get("/metrics").text
        assert client.post("/v1/entities", json={"text": "Alma met Borel"}).status_code == 200


def test_serve_refuses_such_a_bundle_with_one_line(bundle, tmp_path):
    from tests.servers import free_port

    copy = edited_copy(bundle, tmp_path, list(read_manifest(bundle).labels)[:-1], config_too=True)
    port = free_port()
    # nerd serve hands its settings to its workers through os.environ; keep them out of the suite.
    with mock.patch.dict(os.environ, clear=False):
        result = CliRunner().invoke(app, ["serve", "--model", str(copy), "--port", str(port)])
    assert result.exit_code == 1 and "bundle.json lists" in result.output
    assert "Traceback" not in result.output


def test_one_digest_names_the_whole_bundle_everywhere(make_client, bundle, tmp_path):
    from nerd.model_bundle import bundle_digest

    digest = bundle_digest(read_manifest(bundle))
    with make_client() as client:
        assert client.get("/v1/model").json()["bundle_sha256"] == digest
        answer = client.post("/v1/entities", json={"text": "Alma met Borel"}).json()
        assert answer["model"]["bundle_sha256"] == digest
    verified = CliRunner().invoke(app, ["verify", str(bundle)])
    assert verified.exit_code == 0 and digest in verified.output.replace("\n", "")
    # The same files with one label changed in bundle.json alone: another bundle, another digest.
    copy = edited_copy(bundle, tmp_path, swapped(read_manifest(bundle).labels))
    assert bundle_digest(read_manifest(copy)) != digest
