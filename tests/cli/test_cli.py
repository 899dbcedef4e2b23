import json

from typer.testing import CliRunner

from nerd.cli.main import app
from tests.factories import cot_answer, output_line, request, write_lines

runner = CliRunner()


def test_every_command_explains_its_options():
    for command in ("prompts", "import", "train"):
        result = runner.invoke(app, [command, "--help"])
        assert result.exit_code == 0
        assert "--out" in result.output


def every_command_path(group=None, prefix=()):
    """Every command's words, sub-commands included: ("train",), ("evolve", "plan"), ..."""
    import typer.main

    group = group or typer.main.get_command(app)
    for name, command in group.commands.items():
        if getattr(command, "commands", None):
            yield from every_command_path(command, (*prefix, name))
        else:
            yield (*prefix, name)


def test_help_shows_values_only_for_options_that_take_one():
    """No <bool> after a flag, no {name} or <list[Path]> placeholders: they read as if flags took values."""
    paths = list(every_command_path())
    assert ("evolve", "plan") in paths and ("serve",) in paths
    for path in paths:
        result = runner.invoke(app, [*path, "--help"], env={"COLUMNS": "200"}, terminal_width=200)
        assert result.exit_code == 0, (path, result.output)
        for placeholder in ("<bool>", "list[", "<path>", "<int>"):
            assert placeholder not in result.output, (path, placeholder)
        (usage,) = (line for line in result.output.splitlines() if "Usage:" in line)
        assert "{" not in usage, (path, usage)


def test_import_writes_data_and_prints_the_audit(tmp_path):
    write_lines(tmp_path / "b" / "requests.jsonl", [request("a", "Ann sang ."), request("b", "Bob ran .")])
    write_lines(tmp_path / "b" / "output.jsonl", [output_line("a", cot_answer("Result: {'PER': ['Ann']}"))])
    gold = tmp_path / "gold.conll"
    gold.write_text("Ann B-PER\nsang O\n. O\n\n")
    result = runner.invoke(
        app,
        [
            "import",
            str(tmp_path / "b"),
            "--out",
            str(tmp_path / "o"),
            "--gold",
            str(gold),
            "--json-report",
            str(tmp_path / "r.json"),
            "--retry-requests",
            str(tmp_path / "retry.jsonl"),
        ],
    )
    assert result.exit_code == 0, result.output
    assert "Import audit" in result.output and "Teacher vs gold" in result.output
    report = json.loads((tmp_path / "r.json").read_text())
    assert (report["read"], report["imported"], report["rejected"], report["duplicates"]) == (2, 1, 1, 0)
    assert report["rejected_by_reason"] == {"no_response": 1}
    assert report["gold"]["micro"]["f1"] == 1.0
    assert json.loads((tmp_path / "retry.jsonl").read_text())["custom_id"] == "b"


def test_errors_are_one_line_and_exit_1(tmp_path):
    result = runner.invoke(app, ["import", str(tmp_path / "missing"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1
    assert "error:" in result.output and "no such file" in result.output
    assert "Traceback" not in result.output


def test_a_label_map_to_an_unknown_label_names_the_file(tmp_path):
    write_lines(tmp_path / "b" / "p.jsonl", ['{"id": "x", "text": "A", "response": "Result: {}"}'])
    label_map = tmp_path / "map.json"
    label_map.write_text('{"Human": "HUMAN"}')
    result = runner.invoke(
        app, ["import", str(tmp_path / "b"), "--out", str(tmp_path / "o"), "--label-map", str(label_map)]
    )
    assert result.exit_code == 1
    assert "map.json" in result.output and "HUMAN" in result.output


def test_prompts_writes_requests(tmp_path):
    source = tmp_path / "s.txt"
    source.write_text("Ann sang.\n")
    result = runner.invoke(app, ["prompts", str(source), "--out", str(tmp_path / "r")])
    assert result.exit_code == 0, result.output
    assert (tmp_path / "r" / "requests-00001.jsonl").exists() and (tmp_path / "r" / "manifest.json").exists()


def test_empty_and_unrecognised_files_are_named(tmp_path):
    write_lines(tmp_path / "b" / "p.jsonl", ['{"id": "x", "text": "A", "response": "Result: {}"}'])
    (tmp_path / "b" / "empty.jsonl").write_text("")
    write_lines(tmp_path / "b" / "other.jsonl", ['{"hello": 1}'])
    result = runner.invoke(app, ["import", str(tmp_path / "b"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 0, result.output
    assert "empty.jsonl is empty" in result.output
    assert "other.jsonl holds no record of a known shape" in result.output


def test_an_import_with_nothing_usable_is_an_error_naming_the_path(tmp_path):
    (tmp_path / "empty").mkdir()
    result = runner.invoke(app, ["import", str(tmp_path / "empty"), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and f"{tmp_path / 'empty'}: no *.jsonl file" in result.output
    binary = tmp_path / "noise.jsonl"
    binary.write_bytes(bytes(range(256)) * 3)
    result = runner.invoke(app, ["import", str(binary), "--out", str(tmp_path / "o")])
    assert result.exit_code == 1 and f"{binary}: no record of a known shape" in result.output
    assert not (tmp_path / "o" / "data.jsonl").exists()
