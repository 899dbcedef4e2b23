"""Signed bundles (issue 19, item 2): nerd sign, nerd verify --public-key, serve --require-signature."""

import os
import shutil
from unittest import mock

from typer.testing import CliRunner

from nerd.cli.main import app
from nerd.model_bundle import MANIFEST, read_manifest

runner = CliRunner()


def signed_copy(bundle, tmp_path, name="signed"):
    key = tmp_path / "signer.pem"
    if not key.exists():
        made = runner.invoke(app, ["sign", "--generate-key", str(key)])
        assert made.exit_code == 0, made.output
    copy = tmp_path / "models" / name
    shutil.copytree(bundle, copy)
    signed = runner.invoke(app, ["sign", str(copy), "--private-key", str(key)])
    assert signed.exit_code == 0, signed.output
    return copy, key, tmp_path / "signer.pem.pub"


def test_a_signed_bundle_verifies_and_any_change_or_other_key_does_not(bundle, tmp_path):
    copy, _, public = signed_copy(bundle, tmp_path)
    assert (copy / "bundle.sig").is_file() and oct((tmp_path / "signer.pem").stat().st_mode)[-3:] == "600"
    ok = runner.invoke(app, ["verify", str(copy), "--public-key", str(public)])
    assert ok.exit_code == 0 and "signed by key" in ok.output
    assert runner.invoke(app, ["verify", str(bundle), "--public-key", str(public)]).exit_code == 1  # unsigned
    manifest = read_manifest(copy)
    (copy / MANIFEST).write_text(manifest.model_copy(update={"name": "renamed"}).model_dump_json())
    changed = runner.invoke(app, ["verify", str(copy), "--public-key", str(public)])
    assert changed.exit_code == 1 and "signs bundle" in changed.output
    other = tmp_path / "other"
    other.mkdir()
    runner.invoke(app, ["sign", "--generate-key", str(other / "k.pem")])
    copy2, _, _ = signed_copy(bundle, tmp_path, "second")
    wrong = runner.invoke(app, ["verify", str(copy2), "--public-key", str(other / "k.pem.pub")])
    assert wrong.exit_code == 1 and "does not verify" in wrong.output


def test_serving_with_a_required_signature_refuses_unsigned_bundles(make_client, bundle, tmp_path):
    copy, _, public = signed_copy(bundle, tmp_path)
    unsigned = tmp_path / "models" / "unsigned"
    shutil.copytree(bundle, unsigned)
    admin = {"Authorization": "Bearer admin"}
    settings = {"require_signature": True, "public_key_file": public, "admin_keys": ["admin"]}
    with make_client(model_dir=copy, models_root=tmp_path / "models", **settings) as client:
        assert client.get("/readyz").status_code == 200
        refused = client.post("/v1/admin/reload", json={"model_dir": "unsigned"}, headers=admin)
        assert refused.status_code == 409 and "not signed" in refused.json()["detail"]
    with mock.patch.dict(os.environ, clear=False):
        result = runner.invoke(app, ["serve", "--model", str(unsigned), "--require-signature", "--port", "1"])
        assert result.exit_code == 1
        result = runner.invoke(
            app,
            [
                "serve",
                "--model",
                str(unsigned),
                "--require-signature",
                "--public-key",
                str(public),
                "--port",
                "1",
            ],
        )
    assert result.exit_code == 1 and "not signed" in result.output


def test_a_key_pair_is_never_overwritten_and_the_private_key_is_never_readable_by_others(tmp_path):
    """Issue 25, item 6: --generate-key overwrote an existing .pub; the private key was 0644 until
    after its rename."""
    from nerd import atomic

    key = tmp_path / "k.pem"
    public = tmp_path / "k.pem.pub"
    public.write_text("someone else's public key\n")
    refused = runner.invoke(app, ["sign", "--generate-key", str(key)])
    assert refused.exit_code == 1 and "never overwritten" in refused.output
    assert public.read_text() == "someone else's public key\n" and not key.exists()
    public.unlink()
    placed = []  # (name, mode) of each file at the moment it takes its name
    real_replace, real_link = os.replace, os.link

    def noting(real):
        def place(source, target, *args, **kwargs):
            placed.append((str(target), oct(os.stat(source).st_mode)[-3:]))
            return real(source, target, *args, **kwargs)

        return place

    with (
        mock.patch.object(atomic.os, "replace", noting(real_replace)),
        mock.patch.object(atomic.os, "link", noting(real_link)),
    ):
        made = runner.invoke(app, ["sign", "--generate-key", str(key)])
    assert made.exit_code == 0, made.output
    assert [mode for name, mode in placed if name.endswith(".pem")] == ["600"], placed
    assert oct(key.stat().st_mode)[-3:] == "600" and public.is_file()
    assert runner.invoke(app, ["sign", "--generate-key", str(key)]).exit_code == 1
