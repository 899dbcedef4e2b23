"""``nerd extract`` on one machine: the service's answer for every document, every record accounted for,
the same output whatever the batching or the worker count, resumed after SIGKILL, other runs refused."""

import hashlib
import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from nerd.atomic import OutputError
from nerd.errors import InputError
from nerd.extraction.documents import Fields
from nerd.extraction.journal import JOURNAL
from nerd.extraction.run import ExtractRequest, extract
from nerd.extraction.shards import OutputFormat
from nerd.tagging.reading import Reading
from tests.service.test_engine import run_engine

SHIPPED = Path(__file__).resolve().parents[2] / "models" / "en-conll-minilm-int8"
NAMES = ["Alma", "Borel", "Quenby", "Hollin", "Tarn", "Reuters", "Paris", "Ford"]


def documents(count, long_every=0):
    """Invented documents; every ``long_every``-th one long enough to need several model windows."""
    texts = []
    for n in range(count):
        words = [NAMES[(n + k) % len(NAMES)] if k % 3 == 0 else "said" for k in range(5 + n % 9)]
        if long_every and n % long_every == 0:
            words = words * 40
        texts.append(" ".join(words) + ".")
    return texts


def write_jsonl(path, texts, extra=()):
    lines = [json.dumps({"text": text, "key": f"d{n}"}) for n, text in enumerate(texts)]
    path.write_text("\n".join([*lines, *extra]) + "\n")
    return path


def records(out):
    """Every output record of a finished run, in order, read through the manifest (its sums checked)."""
    manifest = json.loads((out / "manifest.json").read_text())
    found = []
    for shard in manifest["shards"]:
        data = (out / shard["file"]).read_bytes()
        assert hashlib.sha256(data).hexdigest() == shard["sha256"]
        found += [json.loads(line) for line in data.decode().splitlines()]
    return manifest, found


def test_each_document_gets_what_v1_entities_answers_for_its_text(bundle, tmp_path):
    texts = [*documents(12, long_every=4), "  Alma met Borel in Quenby\r\n\twith Hollin 🙂 today.  "]
    source = write_jsonl(tmp_path / "docs.jsonl", texts)
    manifest = extract(ExtractRequest([source], bundle, tmp_path / "out", fields=Fields(id="key")))
    _, found = records(tmp_path / "out")
    results, model = run_engine(bundle, lambda engine: engine.entities(texts=texts, reading=Reading()))
    assert [record["entities"] for record in found] == [
        [entity.model_dump() for entity in result.entities] for result in results
    ]
    assert [record["id"] for record in found] == [f"d{n}" for n in range(len(texts))]
    assert manifest["model"]["bundle_sha256"] == model.bundle_sha256
    assert any(record["entities"] for record in found)


def test_every_record_read_is_extracted_or_rejected_with_where_and_why(tmp_path):
    source = write_jsonl(tmp_path / "a.jsonl", documents(30), extra=['{"text": ""}', "{broken", '{"x": 1}'])
    (tmp_path / "b.txt").write_bytes(b"Alma wrote from \xff Quenby")
    (tmp_path / "c.docx").write_bytes(b"PK")
    out = tmp_path / "out"
    shown = []
    manifest = extract(
        ExtractRequest([source, tmp_path / "b.txt", tmp_path / "c.docx"], SHIPPED, out, shard_size=7),
        on_progress=lambda progress: shown.append(vars(progress).copy()),
    )
    counts = manifest["counts"]
    assert shown[-1] == {key: counts[key] for key in ("read", "extracted", "rejected", "entities")} | {
        "total": 35
    }  # what the progress bar ends on
    assert counts["read"] == 35 == counts["extracted"] + counts["rejected"]
    assert (counts["extracted"], counts["rejected"]) == (30, 5)
    rejects = [json.loads(line) for line in (out / "rejects.jsonl").read_text().splitlines()]
    assert counts["rejected_by_reason"] == {
        "broken_json_line": 1,
        "empty": 1,
        "invalid_utf8": 1,
        "no_text_field": 1,
        "unknown_format": 1,
    }
    assert [r["source"] for r in rejects][:3] == [f"{source}:31", f"{source}:32", f"{source}:33"]
    _, found = records(out)
    assert len(found) == 30 and len(manifest["shards"]) == 5
    assert not [name for name in os.listdir(out) if name.startswith("rejects-")]  # gathered


def test_the_output_is_the_same_whatever_the_batching_or_the_workers(tmp_path):
    source = write_jsonl(tmp_path / "docs.jsonl", documents(60, long_every=9))
    outputs = []
    for name, workers, batch in [("one", 1, 64), ("batched-by-one", 1, 1), ("two-workers", 2, 5)]:
        request = ExtractRequest(
            [source], SHIPPED, tmp_path / name, workers=workers, batch_size=batch, shard_size=25
        )
        extract(request)
        outputs.append(records(tmp_path / name)[1])
    assert outputs[0] == outputs[1] == outputs[2]


def test_parquet_shards_read_back_with_pyarrow(tmp_path):
    pytest.importorskip("pyarrow")
    import pyarrow.parquet as parquet

    source = write_jsonl(tmp_path / "docs.jsonl", documents(20))
    extract(ExtractRequest([source], SHIPPED, tmp_path / "jsonl"))
    manifest = extract(ExtractRequest([source], SHIPPED, tmp_path / "pq", output=OutputFormat.parquet))
    table = parquet.read_table(tmp_path / "pq" / manifest["shards"][0]["file"])
    assert table.column_names == ["id", "source", "entities", "truncated"]
    assert table.to_pylist() == records(tmp_path / "jsonl")[1]


def test_a_folder_of_another_run_or_of_other_files_is_refused(tmp_path):
    source = write_jsonl(tmp_path / "docs.jsonl", documents(5))
    out = tmp_path / "out"
    extract(ExtractRequest([source], SHIPPED, out))
    again = extract(ExtractRequest([source], SHIPPED, out))
    assert again["finished_earlier"]
    with pytest.raises(OutputError, match="another extraction"):
        extract(ExtractRequest([source], SHIPPED, out, shard_size=2))
    write_jsonl(source, documents(6))  # the input changed
    with pytest.raises(OutputError, match="another extraction"):
        extract(ExtractRequest([source], SHIPPED, out))
    (tmp_path / "other").mkdir()
    (tmp_path / "other" / "notes.txt").write_text("mine")
    with pytest.raises(OutputError, match="not an extraction's folder"):
        extract(ExtractRequest([source], SHIPPED, tmp_path / "other"))


def test_empty_input_is_an_error_not_a_silent_success(tmp_path):
    empty = tmp_path / "empty.jsonl"
    empty.write_text("")
    with pytest.raises(InputError, match="no record"):
        extract(ExtractRequest([empty], SHIPPED, tmp_path / "out"))
    assert not (tmp_path / "out").exists()  # nothing written: the same command works once there is input


def extract_command(source, out, *extra):
    program = "from nerd.cli.main import main; main()"
    options = ["--model", str(SHIPPED), "--out", str(out), "--shard-size", "40", "--batch-size", "8"]
    return [sys.executable, "-c", program, "extract", str(source), *options, *extra]


def kill_after_shards(command, out, shards, delay):
    """Start the command, SIGKILL it once its journal names ``shards`` shards (and ``delay`` s more)."""
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline and process.poll() is None:
        try:
            done = len(json.loads((out / JOURNAL).read_text())["shards"])
        except (OSError, ValueError, KeyError):
            done = 0
        if done >= shards:
            time.sleep(delay)
            break
        time.sleep(0.01)
    process.send_signal(signal.SIGKILL)
    process.wait()
    return process.returncode


@pytest.mark.parametrize("workers", ["1", "2"])
def test_killed_at_any_moment_the_same_command_finishes_with_each_document_once(tmp_path, workers):
    source = write_jsonl(tmp_path / "docs.jsonl", documents(400), extra=["{broken"])
    whole, out = tmp_path / "whole", tmp_path / "killed"
    subprocess.run(extract_command(source, whole, "--workers", workers), check=True, capture_output=True)
    for shards, delay in [(0, 0.5), (1, 0.0), (2, 0.05), (4, 0.003), (6, 0.0)]:
        kill_after_shards(extract_command(source, out, "--workers", workers), out, shards, delay)
    subprocess.run(extract_command(source, out, "--workers", workers), check=True, capture_output=True)
    manifest, found = records(out)
    assert found == records(whole)[1]
    assert len({record["id"] for record in found}) == len(found) == 400
    assert manifest["counts"] | {"entities": 0} == records(whole)[0]["counts"] | {"entities": 0}
    assert manifest["counts"]["entities"] == sum(len(record["entities"]) for record in found)
    assert (out / "rejects.jsonl").read_text() == (whole / "rejects.jsonl").read_text()


def test_a_full_disk_is_a_clear_error_and_the_run_resumes_once_there_is_room(tmp_path):
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=96k", "tmpfs", str(disk)], capture_output=True
    )
    if os.geteuid() != 0 or mounted.returncode:
        pytest.skip("a small tmpfs cannot be mounted here (needs root and mount permission)")
    try:
        source = write_jsonl(tmp_path / "docs.jsonl", documents(1500))
        out = disk / "out"
        with pytest.raises(OutputError, match="No space left"):
            extract(ExtractRequest([source], SHIPPED, out, shard_size=150))
        written = json.loads((out / JOURNAL).read_text())["shards"]
        assert 0 < len(written) < 10  # some shards made it before the disk filled
        subprocess.run(["mount", "-o", "remount,size=8m", str(disk)], check=True)
        manifest = extract(ExtractRequest([source], SHIPPED, out, shard_size=150))
        assert manifest["counts"]["extracted"] == 1500
        assert len(records(out)[1]) == 1500
        assert not [name for name in os.listdir(out) if name.endswith(".tmp")]  # no half-written file left
    finally:
        subprocess.run(["umount", "-l", str(disk)], check=False)


def test_the_single_machine_path_never_imports_ray(tmp_path):
    source = write_jsonl(tmp_path / "docs.jsonl", documents(3))
    arguments = f"[Path({str(source)!r})], Path({str(SHIPPED)!r}), Path({str(tmp_path / 'out')!r})"
    code = (
        "import sys\n"
        "from pathlib import Path\n"
        "from nerd.extraction.run import ExtractRequest, extract\n"
        f"extract(ExtractRequest({arguments}, workers=2))\n"
        "assert 'ray' not in sys.modules, 'ray was imported'\n"
    )
    result = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr[-2000:]
