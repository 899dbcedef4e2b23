"""``nerd extract --engine ray`` on a local Ray with 2 CPUs: the same shards as the local engine, a killed
driver resumed by the same command, an actor's worker process killed mid-run and nothing lost."""

import json
import os
import signal
import threading
import time

import pytest

from nerd.extraction.journal import JOURNAL
from nerd.extraction.run import Engine, ExtractRequest, extract
from tests.extraction.test_extract import (
    SHIPPED,
    documents,
    extract_command,
    kill_after_shards,
    records,
    write_jsonl,
)

ray = pytest.importorskip("ray", reason="Ray is not installed (pip install 'nerd[ray]')")


@pytest.fixture(scope="module")
def local_ray():
    """One local Ray for the module's tests (each start costs seconds); shut down after."""
    try:
        ray.init(num_cpus=2, include_dashboard=False, log_to_driver=False, configure_logging=False)
    except Exception as error:  # Ray raises many kinds when it cannot start
        pytest.skip(f"Ray cannot start here: {error}")
    yield
    ray.shutdown()


def test_ray_writes_the_shards_the_local_engine_writes(local_ray, tmp_path):
    source = write_jsonl(tmp_path / "docs.jsonl", documents(90, long_every=11), extra=["{broken"])
    (tmp_path / "more.txt").write_text("Alma wrote to Borel from Quenby.")
    inputs = [source, tmp_path / "more.txt"]
    local = extract(ExtractRequest(inputs, SHIPPED, tmp_path / "local", workers=2, shard_size=20))
    on_ray = extract(
        ExtractRequest(inputs, SHIPPED, tmp_path / "ray", workers=2, shard_size=20, engine=Engine.ray)
    )
    assert [s["sha256"] for s in on_ray["shards"]] == [s["sha256"] for s in local["shards"]]
    assert on_ray["counts"] == local["counts"]
    assert (tmp_path / "ray" / "rejects.jsonl").read_bytes() == (
        tmp_path / "local" / "rejects.jsonl"
    ).read_bytes()
    assert on_ray["engine"] == "ray" and "ray" in on_ray["versions"]


def worker_pids(name):
    """Processes whose command line names ``name`` (Ray titles an actor's process ray::<class>)."""
    found = []
    for entry in os.listdir("/proc"):
        if entry.isdigit():
            try:
                with open(f"/proc/{entry}/cmdline", "rb") as stream:
                    if name.encode() in stream.read():
                        found.append(int(entry))
            except OSError:
                continue
    return found


def test_an_actor_killed_mid_run_is_replaced_and_nothing_is_lost(local_ray, tmp_path):
    source = write_jsonl(tmp_path / "docs.jsonl", documents(600))
    out = tmp_path / "out"
    killed = []

    def kill_an_actor():
        deadline = time.monotonic() + 120
        while time.monotonic() < deadline and not killed:
            try:
                done = len(json.loads((out / JOURNAL).read_text())["shards"])
            except (OSError, ValueError, KeyError):
                done = 0
            pids = worker_pids("MapWorker")
            if done >= 1 and pids:
                os.kill(pids[0], signal.SIGKILL)
                killed.append(pids[0])
            time.sleep(0.02)

    killer = threading.Thread(target=kill_an_actor)
    killer.start()
    manifest = extract(
        ExtractRequest([source], SHIPPED, out, workers=2, shard_size=50, batch_size=8, engine=Engine.ray)
    )
    killer.join()
    assert killed, "no actor process was found to kill"
    _, found = records(out)
    assert [record["id"] for record in found] == [f"{source}:{n}" for n in range(1, 601)]
    assert manifest["counts"]["extracted"] == 600


def test_a_killed_ray_driver_is_resumed_by_the_same_command(tmp_path):
    source = write_jsonl(tmp_path / "docs.jsonl", documents(300))
    whole, out = tmp_path / "whole", tmp_path / "killed"
    ray_options = ["--engine", "ray", "--workers", "2"]
    import subprocess

    subprocess.run(extract_command(source, whole), check=True, capture_output=True)
    kill_after_shards(extract_command(source, out, *ray_options), out, 2, 0.0)
    finished = subprocess.run(extract_command(source, out, *ray_options), capture_output=True, text=True)
    assert finished.returncode == 0, finished.stderr[-2000:]
    assert records(out)[1] == records(whole)[1]
