"""``nerd annotate`` against FakeOpenAI, a test double of the OpenAI API served over real loopback HTTP
(tests/annotation/fake_openai.py): both transports, failures, interruptions and resumes, and the hand-off
to ``nerd import``."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nerd.annotation.request_writing import PromptOptions, write_prompts
from nerd.cli.main import app
from tests.annotation.fake_openai import FakeOpenAI
from tests.servers import serving

SENTENCES = [
    "Ann visited Oslo today .",
    "Acme shares fell in Paris .",
    "Borel met Cato in Rusk .",
    "Shares of Ibex rose .",
    "Dima went to Tarn with Esk .",
    "The report from Jorum came late .",
]


@pytest.fixture
def requests_dir(tmp_path: Path) -> Path:
    source = tmp_path / "sentences.txt"
    source.write_text("\n".join(SENTENCES) + "\n")
    write_prompts(source, tmp_path / "requests", PromptOptions(model="teacher-x"))
    return tmp_path / "requests"


def lines(path: Path) -> list[dict]:
    return [json.loads(raw) for raw in path.read_text().splitlines()] if path.exists() else []


def ids_of(path: Path) -> list[str]:
    return [record["custom_id"] for record in lines(path)]


def all_ids(requests_dir: Path) -> set[str]:
    return set(ids_of(requests_dir / "requests-00001.jsonl"))


def annotate(*args: str, env: dict[str, str] | None = None):
    return CliRunner().invoke(app, ["annotate", *args], env=env, catch_exceptions=False)


def assert_each_id_ends_once(run: Path, requests_dir: Path) -> None:
    answered, failed = ids_of(run / "output.jsonl"), ids_of(run / "errors.jsonl")
    assert len(answered) == len(set(answered)) and len(failed) == len(set(failed))
    assert set(answered).isdisjoint(failed)
    assert set(answered) | set(failed) == all_ids(requests_dir)


def chat(base: str, requests_dir: Path, run: Path, *extra: str):
    return annotate(
        str(requests_dir), "--out", str(run), "--via", "chat", "--base-url", f"{base}/v1",
        "--backoff", "0.01", *extra,
    )  # fmt: skip


def test_chat_answers_every_request_and_import_reads_the_run(tmp_path, requests_dir):
    fake = FakeOpenAI()
    run = tmp_path / "run"
    with serving(fake.app) as base:
        result = chat(base, requests_dir, run, "--concurrency", "3")
    assert result.exit_code == 0, result.output
    assert_each_id_ends_once(run, requests_dir)
    assert len(ids_of(run / "output.jsonl")) == len(SENTENCES)
    assert max(fake.asked.values()) == 1 and fake.max_in_flight <= 3
    # The requests travel with the answers, as sent.
    assert ids_of(run / "requests-00001.jsonl") == ids_of(requests_dir / "requests-00001.jsonl")
    imported = CliRunner().invoke(app, ["import", str(run), "--out", str(tmp_path / "imported")])
    assert imported.exit_code == 0, imported.output
    report = json.loads((tmp_path / "imported" / "report.json").read_text())
    assert report["read"] == report["imported"] + report["rejected"] + report["duplicates"]
    assert report["imported"] == len(SENTENCES)


def test_chat_retries_429_500_and_timeouts_and_keeps_final_failures(tmp_path, requests_dir):
    fake = FakeOpenAI(
        scripts={
            "Oslo": [429, 429, "ok"],
            "Paris": [500, 503, "ok"],
            "Rusk": ["timeout", "ok"],
            "Ibex": [400],
            "Tarn": [500] * 10,
            "Jorum": ["garbage"],
        },
        hang_seconds=6.0,
    )
    run = tmp_path / "run"
    with serving(fake.app) as base:
        # A timeout well above any honest answer here, even on a loaded machine, and below the hang.
        result = chat(base, requests_dir, run, "--timeout", "2", "--max-retries", "3")
    assert result.exit_code == 0, result.output
    assert_each_id_ends_once(run, requests_dir)
    errors = {sentence_in(run, record["custom_id"]): record for record in lines(run / "errors.jsonl")}
    assert set(errors) == {
        "Shares of Ibex rose .",
        "Dima went to Tarn with Esk .",
        "The report from Jorum came late .",
    }
    assert errors["Shares of Ibex rose ."]["response"]["status_code"] == 400
    assert errors["Dima went to Tarn with Esk ."]["response"]["status_code"] == 500
    assert errors["The report from Jorum came late ."]["error"]["code"] == "invalid_response"
    assert fake.asked["Shares of Ibex rose ."] == 1  # a 400 is not asked again
    assert fake.asked["Dima went to Tarn with Esk ."] == 4  # once and three retries
    assert fake.asked["Ann visited Oslo today ."] == 3
    # --retry-errors sends exactly the failures again; the answered ones are not asked twice.
    with serving(fake.app) as base:
        again = chat(base, requests_dir, run, "--retry-errors")
    assert again.exit_code == 0, again.output
    assert_each_id_ends_once(run, requests_dir)
    assert fake.asked["Ann visited Oslo today ."] == 3
    assert len(ids_of(run / "output.jsonl")) == len(SENTENCES)


def test_a_retry_after_beyond_the_cap_fails_the_request_at_once_and_says_why(tmp_path, requests_dir):
    """Issue 25, item 8: ``Retry-After: inf`` hung the run; 86400 would have waited a day."""
    fake = FakeOpenAI(
        scripts={"Oslo": [(429, "inf")] * 3, "Paris": [(503, "86400")] * 3, "Rusk": [(429, "nan")]}
    )
    run = tmp_path / "run"
    started = time.monotonic()
    with serving(fake.app) as base:
        result = chat(base, requests_dir, run, "--max-retry-wait", "60")
    assert result.exit_code == 0, result.output
    assert time.monotonic() - started < 60
    assert_each_id_ends_once(run, requests_dir)
    errors = {sentence_in(run, record["custom_id"]): record for record in lines(run / "errors.jsonl")}
    assert set(errors) == {
        "Ann visited Oslo today .",
        "Acme shares fell in Paris .",
        "Borel met Cato in Rusk .",
    }
    for sentence, record in errors.items():
        error = record["response"]["body"]["error"]
        assert error["code"] == "retry_after_too_long", record
        assert "--max-retry-wait of 60 s" in error["message"] and error["server_answer"]["code"]
        assert fake.asked[sentence] == 1
    assert "inf s" in errors["Ann visited Oslo today ."]["response"]["body"]["error"]["message"]


def sentence_in(run: Path, custom_id: str) -> str:
    for record in lines(run / "requests-00001.jsonl"):
        if record["custom_id"] == custom_id:
            return record["body"]["messages"][-1]["content"].removeprefix("Sentence: ")
    raise KeyError(custom_id)


def test_a_refused_key_stops_the_run_without_an_error_line_per_request(tmp_path, requests_dir):
    fake = FakeOpenAI(scripts={word: [401] for word in ("Ann", "Acme", "Borel", "Shares", "Dima", "The")})
    run = tmp_path / "run"
    with serving(fake.app) as base:
        result = chat(base, requests_dir, run, "--concurrency", "1")
    assert result.exit_code == 1
    assert "refused the credentials" in result.output
    assert lines(run / "errors.jsonl") == [] and sum(fake.asked.values()) == 1


def test_the_key_comes_from_a_file_or_the_environment_and_is_never_written(tmp_path, requests_dir):
    fake = FakeOpenAI()
    key_file = tmp_path / "key"
    key_file.write_text("sk-file-secret\n")
    with serving(fake.app) as base:
        assert chat(base, requests_dir, tmp_path / "a", "--api-key-file", str(key_file)).exit_code == 0
        env = {"OPENAI_API_KEY": "sk-env-secret"}
        result = annotate(
            str(requests_dir), "--out", str(tmp_path / "b"), "--via", "chat", "--base-url", f"{base}/v1",
            env=env,
        )  # fmt: skip
        assert result.exit_code == 0
    assert fake.seen_keys == {"Bearer sk-file-secret", "Bearer sk-env-secret"}
    for path in [*(tmp_path / "a").rglob("*"), *(tmp_path / "b").rglob("*")]:
        if path.is_file():
            assert b"secret" not in path.read_bytes(), path


def test_an_interrupted_chat_run_resumes_without_asking_twice(tmp_path, requests_dir):
    fake = FakeOpenAI(answer_delay=0.3)
    run = tmp_path / "run"
    with serving(fake.app) as base:
        command = [
            str(Path(sys.executable).with_name("nerd")), "annotate", str(requests_dir), "--out", str(run),
            "--via", "chat", "--base-url", f"{base}/v1", "--concurrency", "1",
        ]  # fmt: skip
        process = subprocess.Popen(command, env={**os.environ, "PYTHONUNBUFFERED": "1"})
        deadline = time.monotonic() + 60
        while len(ids_of(run / "output.jsonl")) < 2 and time.monotonic() < deadline:
            time.sleep(0.05)
        process.send_signal(signal.SIGKILL)
        process.wait()
        before = set(ids_of(run / "output.jsonl"))
        assert 2 <= len(before) < len(SENTENCES)
        # A torn last line (a write cut short) is cut off and its request asked again.
        with (run / "output.jsonl").open("a") as stream:
            stream.write('{"custom_id": "half')
        fake.answer_delay = 0
        result = chat(base, requests_dir, run)
    assert result.exit_code == 0, result.output
    assert_each_id_ends_once(run, requests_dir)
    # Only the one request in flight when killed may have been asked twice.
    assert sum(fake.asked.values()) <= len(SENTENCES) + 1
    assert all(count <= 2 for count in fake.asked.values())


def test_a_run_directory_belongs_to_one_request_set(tmp_path, requests_dir):
    fake = FakeOpenAI()
    run = tmp_path / "run"
    with serving(fake.app) as base:
        assert chat(base, requests_dir, run).exit_code == 0
        other = chat(base, requests_dir, run, "--model", "another-model")
    assert other.exit_code == 1 and "another set of requests" in other.output


def test_dry_run_counts_and_prices_and_sends_nothing(tmp_path, requests_dir):
    result = annotate(
        str(requests_dir), "--out", str(tmp_path / "run"), "--via", "chat", "--base-url", "http://127.0.0.1:9/v1",
        "--dry-run", "--price", "10",
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert "to send" in result.output and str(len(SENTENCES)) in result.output
    assert "prompt cost" in result.output
    assert not (tmp_path / "run").exists()


def test_overrides_are_what_is_sent_and_what_the_bundle_says(tmp_path, requests_dir):
    fake = FakeOpenAI()
    run = tmp_path / "run"
    with serving(fake.app) as base:
        result = chat(base, requests_dir, run, "--model", "local-llm", "--temperature", "0.5")
    assert result.exit_code == 0, result.output
    bodies = [record["body"] for record in lines(run / "requests-00001.jsonl")]
    assert {body["model"] for body in bodies} == {"local-llm"} and {b["temperature"] for b in bodies} == {0.5}
    assert {r["response"]["body"]["model"] for r in lines(run / "output.jsonl")} == {"local-llm"}


def test_azure_chat_uses_the_deployment_routes(tmp_path, requests_dir):
    fake = FakeOpenAI()
    with serving(fake.app) as base:
        result = annotate(
            str(requests_dir), "--out", str(tmp_path / "run"), "--via", "chat", "--base-url", base,
            "--azure-api-version", "2024-10-21", env={"AZURE_OPENAI_API_KEY": "azure-key"},
        )  # fmt: skip
    assert result.exit_code == 0, result.output
    assert len(ids_of(tmp_path / "run" / "output.jsonl")) == len(SENTENCES)


def batch(base: str, requests_dir: Path, run: Path, *extra: str):
    return annotate(
        str(requests_dir), "--out", str(run), "--via", "batch", "--base-url", f"{base}/v1",
        "--poll-interval", "0", *extra, env={"OPENAI_API_KEY": "sk-test"},
    )  # fmt: skip


def test_batch_uploads_splits_polls_and_downloads(tmp_path, requests_dir):
    fake = FakeOpenAI()
    run = tmp_path / "run"
    with serving(fake.app) as base:
        result = batch(base, requests_dir, run, "--batch-size", "4")
    assert result.exit_code == 0, result.output
    assert_each_id_ends_once(run, requests_dir)
    assert fake.uploads == 2 and fake.batches_created == 2
    state = json.loads((run / "state.json").read_text())
    assert [part["status"] for part in state["batches"]] == ["completed", "completed"]
    assert all(part["collected"] for part in state["batches"])
    assert "sk-test" not in (run / "state.json").read_text()


def test_batch_resumes_running_batches_instead_of_paying_twice(tmp_path, requests_dir):
    fake = FakeOpenAI()
    run = tmp_path / "run"
    with serving(fake.app) as base:
        submitted = batch(base, requests_dir, run, "--no-wait")
        assert submitted.exit_code == 0, submitted.output
        assert fake.batches_created == 1 and ids_of(run / "output.jsonl") == []
        checked = batch(base, requests_dir, run, "--check")
        assert checked.exit_code == 0 and "batch_" in checked.output
        assert ids_of(run / "output.jsonl") == []
        resumed = batch(base, requests_dir, run)
    assert resumed.exit_code == 0, resumed.output
    assert fake.uploads == 1 and fake.batches_created == 1
    assert_each_id_ends_once(run, requests_dir)


def test_a_batch_that_expires_half_done_keeps_both_halves_and_retries_the_rest(tmp_path, requests_dir):
    fake = FakeOpenAI(batch_mode="expire_half")
    run = tmp_path / "run"
    with serving(fake.app) as base:
        result = batch(base, requests_dir, run)
        assert result.exit_code == 0, result.output
        assert_each_id_ends_once(run, requests_dir)
        expired = lines(run / "errors.jsonl")
        assert len(expired) == len(SENTENCES) // 2
        assert {record["error"]["code"] for record in expired} == {"batch_expired"}
        fake.batch_mode = "complete"
        again = batch(base, requests_dir, run, "--retry-errors")
    assert again.exit_code == 0, again.output
    assert_each_id_ends_once(run, requests_dir)
    assert len(ids_of(run / "output.jsonl")) == len(SENTENCES) and fake.batches_created == 2
    assert max(fake.asked.values()) == 1


def test_a_failed_batch_gives_every_request_an_error_line(tmp_path, requests_dir):
    fake = FakeOpenAI(batch_mode="fail")
    run = tmp_path / "run"
    with serving(fake.app) as base:
        result = batch(base, requests_dir, run)
    assert result.exit_code == 0, result.output
    assert_each_id_ends_once(run, requests_dir)
    errors = lines(run / "errors.jsonl")
    assert len(errors) == len(SENTENCES)
    assert {record["error"]["code"] for record in errors} == {"batch_failed"}
    assert "fake failure" in errors[0]["error"]["message"]


def test_batch_without_a_key_is_refused_before_anything_is_sent(tmp_path, requests_dir, monkeypatch):
    monkeypatch.delenv("OPENAI_API_KEY", raising=False)
    result = annotate(str(requests_dir), "--out", str(tmp_path / "run"), "--via", "batch")
    assert result.exit_code == 1 and "no API key" in result.output


def test_a_batch_api_refusal_is_one_clear_line_and_a_rerun_resumes(tmp_path, requests_dir):
    fake = FakeOpenAI(upload_status=400)
    run = tmp_path / "run"
    with serving(fake.app) as base:
        refused = batch(base, requests_dir, run)
        assert refused.exit_code == 1
        assert "fake upload refusal" in refused.output and "the same command resumes" in refused.output
        fake.upload_status = 200
        resumed = batch(base, requests_dir, run)
    assert resumed.exit_code == 0, resumed.output
    assert_each_id_ends_once(run, requests_dir)
    assert fake.uploads == 1 and fake.batches_created == 1
