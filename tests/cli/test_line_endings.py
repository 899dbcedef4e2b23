"""What a line is, for every command that reads text one sentence a line: what ends in "\\n" ("\\r\\n").

Python's ``str.splitlines`` also splits on U+2028, U+2029, U+0085, \\x1c-\\x1e, \\x0b and \\x0c; such a
character inside a sentence must not make two sentences of it in ``nerd prompts``, ``nerd label`` or
``nerd review init`` (one reader, ``nerd.jsonl.text_lines``).
"""

import json

import pytest
from typer.testing import CliRunner

from nerd.annotation.prompt_inputs import InputFormat, read_sentences
from nerd.jsonl import text_lines

runner = CliRunner()
SEPARATORS = ["\u2028", "\u2029", "\u0085", "\x1c", "\x1d", "\x1e", "\x0b", "\x0c"]


def six_lines(separator: str) -> str:
    """Six sentences, one a line, each with the separator inside; a BOM and one CRLF for good measure."""
    lines = [f"Anna{separator}met Bob in Oslo .", f"Carl{separator}left ."] * 3
    return "\ufeff" + "\r\n".join(lines[:2]) + "\n" + "\n".join(lines[2:]) + "\n"


@pytest.mark.parametrize("separator", SEPARATORS, ids=[f"U+{ord(s):04X}" for s in SEPARATORS])
def test_a_line_is_what_ends_in_a_newline(tmp_path, separator):
    assert len(text_lines(six_lines(separator))) == 6
    path = tmp_path / "pool.txt"
    path.write_text(six_lines(separator), encoding="utf-8", newline="")
    sentences = read_sentences(path, InputFormat.lines)
    assert [sentence.line for sentence in sentences] == [1, 2, 3, 4, 5, 6]
    assert sentences[0].tokens[0] == "Anna"  # the BOM is no part of the first word


@pytest.mark.parametrize("separator", ["\u2028", "\u0085", "\x1c"], ids=["U+2028", "U+0085", "U+001C"])
def test_prompts_label_and_review_init_read_six_lines_as_six_sentences(tmp_path, trained_model, separator):
    from nerd.cli.main import app

    pool = tmp_path / "pool.txt"
    pool.write_text(six_lines(separator), encoding="utf-8", newline="")
    prompts = runner.invoke(
        app, ["prompts", str(pool), "--format", "lines", "--out", str(tmp_path / "requests")]
    )
    assert prompts.exit_code == 0, prompts.output
    manifest = json.loads((tmp_path / "requests" / "manifest.json").read_text())
    assert manifest["counts"]["sentences"] == 6 and manifest["counts"]["requests"] == 2  # each asked once

    label = runner.invoke(
        app,
        [
            "label",
            str(pool),
            "--format",
            "lines",
            "--model",
            str(trained_model),
            "--out",
            str(tmp_path / "l"),
        ],
    )
    assert label.exit_code == 0, label.output
    assert len((tmp_path / "l" / "data.jsonl").read_text(encoding="utf-8").split("\n")) == 7  # 6 and the end

    pytest.importorskip("sqlalchemy")
    db = str(tmp_path / "r.db")
    init = runner.invoke(app, ["review", "init", db, "--texts", str(pool), "--text-format", "lines"])
    assert init.exit_code == 0, init.output
    assert "2 sentence(s) added" in init.output and "4 already there or repeated" in init.output
