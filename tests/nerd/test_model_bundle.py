import io
import json
import tarfile

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.atomic import OutputError
from nerd.bundle_archive import SUM_SUFFIX, pack, unpack
from nerd.bundle_checks import verified_bundle
from nerd.bundle_reading import checksums, read_bundle
from nerd.errors import ModelBundleError
from nerd.model_bundle import MANIFEST, Manifest, read_manifest


def make_bundle(directory, variant="int8"):
    """A bundle-shaped directory (the model bytes are invented: only checksums matter here)."""
    directory.mkdir(parents=True)
    (directory / "model.onnx").write_bytes(b"\x08\x07onnx bytes")
    (directory / "tokenizer.json").write_text('{"model": {}}')
    (directory / "sub").mkdir()
    (directory / "sub" / "notes.txt").write_text("ünïcode")
    manifest = Manifest(
        name="tiny",
        variant=variant,
        labels=["O", "B-PER", "I-PER"],
        max_length=32,
        opset=17,
        producers={"nerd": "0"},
        created="2026-11-22T00:00:00+00:00",
        source_model="/nowhere",
        training_card=None,
        verification={"passed": True},
        files=checksums(directory),
    )
    (directory / MANIFEST).write_text(json.dumps(manifest.model_dump()))
    return directory


def test_an_intact_bundle_verifies(tmp_path):
    bundle = make_bundle(tmp_path / "onnx-int8")
    assert read_bundle(bundle, keep_bytes=False).problems == []
    assert verified_bundle(bundle, keep_bytes=False).manifest.files.keys() == {
        "model.onnx",
        "tokenizer.json",
        "sub/notes.txt",
    }


def test_a_changed_byte_a_missing_file_and_an_extra_file_are_each_named(tmp_path):
    bundle = make_bundle(tmp_path / "b")
    data = bytearray((bundle / "model.onnx").read_bytes())
    data[3] ^= 1
    (bundle / "model.onnx").write_bytes(bytes(data))
    (bundle / "sub" / "notes.txt").unlink()
    (bundle / "stray.bin").write_bytes(b"")
    problems = read_bundle(bundle, keep_bytes=False).problems
    assert [p.split(":")[0] for p in problems] == ["model.onnx", "sub/notes.txt", "stray.bin"]
    with pytest.raises(ModelBundleError, match=r"model.onnx: sha256 .* \(and 2 more\)"):
        verified_bundle(bundle, keep_bytes=False)


def test_a_directory_without_a_manifest_is_not_a_bundle(tmp_path):
    with pytest.raises(ModelBundleError, match=r"no bundle\.json"):
        read_manifest(tmp_path)


@given(st.binary(max_size=300))
def test_any_bytes_as_a_manifest_are_a_clear_rejection(tmp_path_factory, data):
    directory = tmp_path_factory.mktemp("m")
    (directory / MANIFEST).write_bytes(data)
    with pytest.raises(ModelBundleError, match=r"bundle\.json"):
        read_manifest(directory)


@given(st.dictionaries(st.sampled_from(list(Manifest.model_fields)), st.none() | st.integers() | st.text()))
def test_any_json_object_as_a_manifest_is_a_clear_rejection(tmp_path_factory, fields):
    directory = tmp_path_factory.mktemp("m")
    (directory / MANIFEST).write_text(json.dumps(fields))
    with pytest.raises(ModelBundleError, match=r"bundle\.json"):
        read_manifest(directory)


def test_pack_and_unpack_carry_bundles_byte_for_byte(tmp_path):
    bundles = [make_bundle(tmp_path / "src" / f"onnx-{v}", v) for v in ("fp32", "int8")]
    archive = tmp_path / "carry" / "tiny.tar.gz"
    digest = pack(bundles, archive)
    assert (tmp_path / "carry" / f"tiny.tar.gz{SUM_SUFFIX}").read_text() == f"{digest}  tiny.tar.gz\n"
    installed = unpack(archive, tmp_path / "models")
    assert [p.name for p in installed] == ["onnx-fp32", "onnx-int8"]
    for bundle in installed:
        assert read_bundle(bundle, keep_bytes=False).problems == []
        assert (bundle / "sub" / "notes.txt").read_text() == "ünïcode"
    with pytest.raises(OutputError, match="already exists"):
        unpack(archive, tmp_path / "models")
    assert unpack(archive, tmp_path / "models", force=True) == installed
    assert sorted(p.name for p in (tmp_path / "models").iterdir()) == ["onnx-fp32", "onnx-int8"]


def test_an_archive_that_does_not_match_its_sum_is_refused(tmp_path):
    archive = tmp_path / "a.tar.gz"
    pack([make_bundle(tmp_path / "onnx-fp32", "fp32")], archive)
    with archive.open("ab") as stream:
        stream.write(b"\0")
    with pytest.raises(ModelBundleError, match=r"differs from the \.sha256"):
        unpack(archive, tmp_path / "models")
    (tmp_path / "a.tar.gz.sha256").unlink()
    with pytest.raises(ModelBundleError, match=r"no a\.tar\.gz\.sha256"):
        unpack(archive, tmp_path / "models")


def hostile_archive(path, member):
    buffer = io.BytesIO()
    with tarfile.open(fileobj=buffer, mode="w:gz") as tar:
        tar.addfile(member, io.BytesIO(b"x" * member.size) if member.isfile() else None)
    path.write_bytes(buffer.getvalue())
    from nerd.checksums import file_sha256

    path.with_name(path.name + SUM_SUFFIX).write_text(f"{file_sha256(path)}  {path.name}\n")
    return path


@pytest.mark.parametrize(
    ("name", "kind", "reason"),
    [
        ("../escape/model.onnx", tarfile.REGTYPE, "outside the target"),
        ("/etc/model.onnx", tarfile.REGTYPE, "outside the target"),
        ("onnx-fp32/../../x", tarfile.REGTYPE, "outside the target"),
        ("onnx-fp32/link", tarfile.SYMTYPE, "not a plain file"),
        ("onnx-fp32/dev", tarfile.CHRTYPE, "not a plain file"),
        ("loose.txt", tarfile.REGTYPE, "not inside a bundle"),
    ],
)
def test_unpacking_refuses_members_outside_plain_bundle_files(tmp_path, name, kind, reason):
    member = tarfile.TarInfo(name)
    member.type = kind
    member.size = 1 if kind == tarfile.REGTYPE else 0
    if kind == tarfile.SYMTYPE:
        member.linkname = "/etc/passwd"
    archive = hostile_archive(tmp_path / "evil.tar.gz", member)
    with pytest.raises(ModelBundleError, match=reason):
        unpack(archive, tmp_path / "models")
    assert list((tmp_path / "models").iterdir()) == []
    assert not (tmp_path / "escape").exists()


@given(st.binary(max_size=500))
def test_any_bytes_with_a_matching_sum_are_a_clear_rejection(tmp_path_factory, data):
    from nerd.checksums import file_sha256

    directory = tmp_path_factory.mktemp("u")
    archive = directory / "x.tar.gz"
    archive.write_bytes(data)
    (directory / "x.tar.gz.sha256").write_text(f"{file_sha256(archive)}  x.tar.gz\n")
    try:
        installed = unpack(archive, directory / "models")
    except ModelBundleError:
        return
    assert installed == []  # an empty archive unpacks to nothing
