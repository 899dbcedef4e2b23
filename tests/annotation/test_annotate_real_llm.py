"""A real small instruct model behind llama.cpp's OpenAI-compatible server, on this CPU: ``nerd prompts``
-> ``nerd annotate --via chat`` -> ``nerd import``, with the import's accounting checked.

Slow (a server start and a few answers of a few seconds each). It needs a Python with
``llama-cpp-python[server]`` and a GGUF model; ``make llm`` builds both into ``.venv-llm`` (the server is a
source build: minutes) and ``make test-slow`` passes them on through ``NERD_LLM_PYTHON`` and
``NERD_LLM_GGUF``. Without them the test is skipped and says why.
"""

from __future__ import annotations

import json
import os
import subprocess
import time
import urllib.request
from pathlib import Path

import pytest
from typer.testing import CliRunner

from nerd.cli.main import app
from tests.factories import conll_text
from tests.servers import free_port

pytestmark = pytest.mark.slow

SENTENCES = [
    [
        ("Germany", "B-LOC"),
        ("imported", "O"),
        ("47,600", "O"),
        ("sheep", "O"),
        ("from", "O"),
        ("Britain", "B-LOC"),
    ],
    [
        ("Peter", "B-PER"),
        ("Blackburn", "I-PER"),
        ("spoke", "O"),
        ("in", "O"),
        ("Brussels", "B-LOC"),
        (".", "O"),
    ],
    [
        ("The", "O"),
        ("European", "B-ORG"),
        ("Commission", "I-ORG"),
        ("said", "O"),
        ("on", "O"),
        ("Thursday", "O"),
    ],
    [("Rabinovich", "B-PER"), ("is", "O"), ("winding", "O"), ("up", "O"), ("his", "O"), ("term", "O")],
    [
        ("Israel", "B-LOC"),
        ("and", "O"),
        ("Syria", "B-LOC"),
        ("met", "O"),
        ("in", "O"),
        ("Washington", "B-LOC"),
    ],
    [("Japan", "B-LOC"), ("beat", "O"), ("the", "O"), ("Syrians", "B-MISC"), ("2-1", "O"), (".", "O")],
]


def _server_parts() -> tuple[str, str]:
    python = os.environ.get("NERD_LLM_PYTHON")
    model = os.environ.get("NERD_LLM_GGUF")
    if not python or not Path(python).exists():
        pytest.skip("NERD_LLM_PYTHON (a Python with llama-cpp-python[server]) is not set: run `make llm`")
    if not model or not Path(model).is_file():
        pytest.skip("NERD_LLM_GGUF (a GGUF instruct model) is not set: run `make llm`")
    return python, model


@pytest.fixture
def llm_server(tmp_path):
    python, model = _server_parts()
    port = free_port()
    log = (tmp_path / "server.log").open("w")
    command = [
        python, "-m", "llama_cpp.server", "--model", model, "--host", "127.0.0.1", "--port", str(port),
        "--n_ctx", "8192", "--n_threads", "2", "--model_alias", "local-llm",
    ]  # fmt: skip
    process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
    base = f"http://127.0.0.1:{port}/v1"
    deadline = time.monotonic() + 120
    try:
        while True:
            try:
                with urllib.request.urlopen(f"{base}/models", timeout=2):
                    break
            except OSError:
                if process.poll() is not None or time.monotonic() > deadline:
                    pytest.fail(
                        f"the LLM server did not start: {(tmp_path / 'server.log').read_text()[-2000:]}"
                    )
                time.sleep(0.5)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=30)
        log.close()


def test_a_real_model_annotates_and_import_accounts_for_every_answer(tmp_path, llm_server):
    gold = tmp_path / "gold.conll"
    gold.write_text(conll_text(SENTENCES))
    examples = tmp_path / "examples.conll"
    examples.write_text(conll_text(SENTENCES[:3]))
    runner = CliRunner()
    prompts = runner.invoke(
        app,
        ["prompts", str(gold), "--out", str(tmp_path / "requests"), "--model", "local-llm",
         "--max-tokens", "300", "--examples", str(examples), "--shots", "2"],
    )  # fmt: skip
    assert prompts.exit_code == 0, prompts.output
    annotate = runner.invoke(
        app,
        ["annotate", str(tmp_path / "requests"), "--out", str(tmp_path / "run"), "--via", "chat",
         "--base-url", llm_server, "--concurrency", "1", "--timeout", "300"],
    )  # fmt: skip
    assert annotate.exit_code == 0, annotate.output
    answered = (tmp_path / "run" / "output.jsonl").read_text().splitlines()
    failed = tmp_path / "run" / "errors.jsonl"
    failed = failed.read_text().splitlines() if failed.exists() else []
    assert len(answered) + len(failed) == len(SENTENCES)
    imported = runner.invoke(
        app, ["import", str(tmp_path / "run"), "--out", str(tmp_path / "imported"), "--gold", str(gold)]
    )
    assert imported.exit_code == 0, imported.output
    report = json.loads((tmp_path / "imported" / "report.json").read_text())
    assert report["read"] == report["imported"] + report["rejected"] + report["duplicates"]
    # Every request id is somewhere: imported, or rejected with a reason.
    rejected = [
        json.loads(line) for line in (tmp_path / "imported" / "rejects.jsonl").read_text().splitlines()
    ]
    data = [json.loads(line) for line in (tmp_path / "imported" / "data.jsonl").read_text().splitlines()]
    seen = {record["id"] for record in data} | {
        record.get("custom_id") or record.get("id") for record in rejected
    }
    requests = [
        json.loads(line) for line in (tmp_path / "run" / "requests-00001.jsonl").read_text().splitlines()
    ]
    assert {request["custom_id"] for request in requests} <= seen
