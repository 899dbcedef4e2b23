import json
from pathlib import Path

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.annotation.import_outputs import ImportPaths, check_outputs, write_import
from nerd.annotation.importing import ImportOptions, import_answers
from nerd.annotation.record_shapes import shape_of
from nerd.atomic import OutputError
from nerd.errors import AnswerFilesError
from nerd.labels import LabelSet
from tests.factories import cot_answer, error_line, output_line, per_line, request, structured, write_lines

SENTENCES = {
    "c-01": "Maria Lopez visited Paris .",
    "c-02": "Acme buys Danish rival .",
    "c-03": "Reuters reported from New York .",
    "c-04": "The New York Times said so .",
    "c-05": "Nothing here .",
    "c-06": "Bonn is calm .",
    "c-07": "Hamburg beat Bremen .",
    "c-08": "Smith left .",
    "c-09": "Oslo waits .",
    "c-10": "Never answered .",
    "c-11": "Rome again .",
}


@pytest.fixture
def bundle(tmp_path: Path) -> Path:
    """A Batch trio plus a per-line export holding one of each fault the shared README lists."""
    root = tmp_path / "bundle"
    write_lines(root / "conll" / "requests.jsonl", [request(cid, text) for cid, text in SENTENCES.items()])
    output = [
        output_line("c-01", cot_answer("Result: {'PER': ['Maria Lopez'], 'LOC': ['Paris']}")),  # python dict
        output_line(
            "c-02", cot_answer('Result:\n```json\n{"ORG": ["Acme"], "MISC": ["Danish"]}\n```')
        ),  # fenced
        output_line(
            "c-03",
            cot_answer('Final answer:\n{\n  "ORG": [\n    "Reuters"\n  ],\n  "Location": ["new york"]\n}'),
        ),
        output_line(
            "c-04", cot_answer("Result: {'ORG': ['The New York Times'], 'LOC': ['New York']}")
        ),  # nested
        output_line("c-05", cot_answer("Result: {'PER': ['John Smith']}")),  # hallucinated
        output_line("c-06", cot_answer("Result: {'LOC': ['Bonn'")),  # malformed dict
        output_line("c-07", cot_answer("Result: {'ORG': ['Ham"), finish_reason="length"),  # truncated
        output_line("c-08", cot_answer("Result: {'PERSON': ['Smith']}")),  # label synonym
        output_line("c-08", cot_answer("Result: {'PERSON': ['Smith']}")),  # duplicate line
        '{"id": "batch_req_x", "custom_id": "c-09", "response": {"status_code": 200, "bo',  # broken line
        output_line("c-11", cot_answer("Result: {'Planet': ['Rome']}")),  # unknown label
        output_line("c-99", cot_answer("Result: {}")),  # an id no request has
    ]
    write_lines(root / "conll" / "output.jsonl", output)
    write_lines(root / "conll" / "errors.jsonl", [error_line("c-10", 500)])
    write_lines(
        root / "bbc" / "annotations.jsonl",
        [
            per_line(
                "b-1",
                "Tony Blair met Bono in London.",
                "Result: {'PER': ['Tony Blair', 'Bono'], 'LOC': ['London']}",
            ),
            per_line("b-2", "Cut off here.", "Result: {'PER", finish_reason="length"),
        ],
    )
    return root


def by_id(rows):
    return {row["id"]: row for row in rows}


def test_every_request_and_record_is_accounted_for(bundle):
    result = import_answers([bundle])
    report = result.report
    assert report["read"] == report["imported"] + report["rejected"] + report["duplicates"]
    imported = {record.id for record in result.records}
    rejected = [row["id"] for row in result.rejects]
    assert imported.isdisjoint(rejected)
    assert len(rejected) == len(set(rejected))
    assert set(SENTENCES) | {"b-1", "b-2", "c-99"} == imported | set(rejected)
    assert report["rejected_by_reason"] == {
        "broken_json_line": 1,
        "failed_request": 1,
        "malformed_dict": 1,
        "truncated": 2,
        "unknown_custom_id": 1,
    }
    assert report["duplicates"] == 1 and result.duplicates[0]["kind"] == "identical"


def test_answers_are_labelled_from_every_shape(bundle):
    records = {record.id: record for record in import_answers([bundle]).records}
    assert records["c-01"].tags == ["B-PER", "I-PER", "O", "B-LOC", "O"]
    assert records["c-02"].tags == ["B-ORG", "O", "B-MISC", "O", "O"]
    assert records["c-03"].tags == ["B-ORG", "O", "O", "B-LOC", "I-LOC", "O"]  # case changed + synonym
    assert records["c-04"].tags == ["B-ORG", "I-ORG", "I-ORG", "I-ORG", "O", "O", "O"]
    assert records["c-05"].tags == ["O", "O", "O"]  # hallucination dropped, sentence kept
    assert records["c-08"].tags == ["B-PER", "O", "O"]
    assert records["c-11"].tags == ["O", "O", "O"]
    assert records["b-1"].tokens == ["Tony", "Blair", "met", "Bono", "in", "London", "."]
    assert records["b-1"].tags == ["B-PER", "I-PER", "O", "B-PER", "O", "B-LOC", "O"]
    assert records["c-01"].provenance.teacher == "teacher-x"


def test_the_audit_reports_what_did_not_fit(bundle):
    result = import_answers([bundle])
    entities = result.report["entities"]
    assert entities["hallucinated"] == 1
    assert entities["nested"] == 1
    assert entities["unknown_label"] == 1 and entities["unknown_labels"] == {"Planet": 1}
    assert entities["aligned_by_rung"]["case_insensitive"] == 1
    assert entities["synonyms_mapped"] == {"Location": 1, "PERSON": 1}
    kinds = {(event["id"], event["kind"]) for event in result.events}
    assert {("c-04", "nested"), ("c-05", "hallucinated"), ("c-11", "unknown_label")} <= kinds


def test_the_broken_line_is_matched_to_its_request(bundle):
    rejects = by_id(import_answers([bundle]).rejects)
    assert rejects["c-09"]["reason"] == "broken_json_line"
    assert rejects["c-09"]["record"].startswith('{"id": "batch_req_x"')


def test_drop_sentence_policy_rejects_hallucinating_answers(bundle):
    result = import_answers([bundle], ImportOptions(drop_hallucinated=True))
    assert by_id(result.rejects)["c-05"]["reason"] == "hallucinated_entity"


def test_a_request_without_any_answer_is_rejected_as_such(bundle):
    (bundle / "conll" / "errors.jsonl").unlink()
    assert by_id(import_answers([bundle]).rejects)["c-10"]["reason"] == "no_response"


def test_retry_requests_are_exactly_the_rejected_requests(bundle):
    result = import_answers([bundle])
    retried = {json.loads(line)["custom_id"] for line in result.retry_requests}
    assert retried == {"c-06", "c-07", "c-09", "c-10"}


def test_a_retried_answer_supersedes_the_failure(bundle, tmp_path):
    retry = write_lines(tmp_path / "retry" / "output.jsonl", [output_line("c-10", cot_answer("Result: {}"))])
    result = import_answers([bundle, retry])
    assert "c-10" in {record.id for record in result.records}
    assert "c-10" not in by_id(result.rejects)
    assert {row["kind"] for row in result.duplicates if row["id"] == "c-10"} == {"superseded"}


def test_output_without_requests_is_one_clear_error(bundle):
    with pytest.raises(AnswerFilesError, match="without its requests file"):
        import_answers([bundle / "conll" / "output.jsonl"])


def test_a_request_id_reused_for_another_sentence_rejects_both_requests_and_their_answer(tmp_path):
    path = write_lines(
        tmp_path / "r.jsonl", [request("a", "one ."), request("b", "Ann ."), request("a", "two .")]
    )
    output = write_lines(
        tmp_path / "o.jsonl", [output_line("a", "Result: {}"), output_line("b", "Result: {}")]
    )
    result = import_answers([path, output])
    assert [record.id for record in result.records] == ["b"]
    rows = [(row["id"], row["reason"], row["line"]) for row in result.rejects]
    assert rows == [("a", "bad_request", 1), ("a", "bad_request", 3), ("a", "unknown_custom_id", 1)]
    assert "was already used for another sentence at" in result.rejects[1]["detail"]
    assert result.report["read"] == 4 == result.report["imported"] + result.report["rejected"]


def test_strict_stops_at_a_request_id_reused_for_another_sentence(tmp_path):
    path = write_lines(tmp_path / "r.jsonl", [request("a", "one ."), request("a", "two .")])
    with pytest.raises(AnswerFilesError) as error:
        import_answers([path], ImportOptions(strict=True))
    assert error.value.line == 2


def _three_requests_one_broken(tmp_path: Path, broken: str | bytes) -> Path:
    root = tmp_path / "bundle"
    write_lines(root / "requests.jsonl", [request("r-1", "Ann sang ."), broken, request("r-3", "Bob ran .")])
    answers = [output_line(cid, "Result: {'PER': ['Ann', 'Bob']}") for cid in ("r-1", "r-2", "r-3")]
    write_lines(root / "output.jsonl", answers)
    return root


@pytest.mark.parametrize(
    "broken",
    [
        request("r-2", "Cy hid .")[:60],  # cut off half-way, its custom_id still readable
        b'{"custom_id": "r-2", "body": "\xff\xfe"}',  # invalid UTF-8
        '{"custom_id": "r-2", "method": "POST", "body": {"messages": []}}',  # no sentence in it
        '{"custom_id": "r-2", "response": {}}',  # an answer line, not a request
    ],
    ids=["cut-off", "invalid-utf8", "no-sentence", "not-a-request"],
)
def test_one_bad_request_line_is_a_reject_with_its_line_and_the_rest_imports(tmp_path, broken):
    result = import_answers([_three_requests_one_broken(tmp_path, broken)])
    assert [record.id for record in result.records] == ["r-1", "r-3"]
    rejects = {(row["id"], row["reason"]): row for row in result.rejects}
    bad = rejects[("r-2", "bad_request")]
    assert bad["line"] == 2 and bad["file"].endswith("requests.jsonl") and bad["detail"]
    answer = rejects[("r-2", "unknown_custom_id")]
    assert answer["file"].endswith("output.jsonl") and "was rejected as a bad request" in answer["detail"]
    report = result.report
    assert report["read"] == 4 == report["imported"] + report["rejected"] + report["duplicates"]
    assert report["rejected_by_reason"] == {"bad_request": 1, "unknown_custom_id": 1}
    with pytest.raises(AnswerFilesError) as error:
        import_answers([tmp_path / "bundle"], ImportOptions(strict=True))
    assert error.value.line == 2


def test_a_bad_request_line_without_a_readable_id_is_still_a_reject(tmp_path):
    result = import_answers([_three_requests_one_broken(tmp_path, "{not json")])
    bad = [row for row in result.rejects if row["reason"] == "bad_request"]
    assert len(bad) == 1 and bad[0]["id"] is None and bad[0]["line"] == 2
    assert {(row["id"], row["reason"]) for row in result.rejects} >= {("r-2", "unknown_custom_id")}


@pytest.mark.parametrize("which", ["requests.jsonl", "output.jsonl", "annotations.jsonl"])
def test_a_byte_order_mark_at_the_start_of_any_answer_file_is_skipped(tmp_path, which):
    root = tmp_path / "bundle"
    files = {
        "requests.jsonl": [request("r-1", "Ann sang .")],
        "output.jsonl": [output_line("r-1", "Result: {'PER': ['Ann']}")],
        "annotations.jsonl": [per_line("p-1", "Bob ran .", "Result: {'PER': ['Bob']}")],
    }
    for name, lines in files.items():
        path = write_lines(root / name, lines)
        if name == which:
            path.write_bytes(b"\xef\xbb\xbf" + path.read_bytes())
    result = import_answers([root])
    assert sorted(record.id for record in result.records) == ["p-1", "r-1"]
    assert result.rejects == []


@pytest.mark.parametrize(
    "line",
    [
        '{"id": 17, "text": "Ann sang .", "response": "Result: {\'PER\': [\'An',  # cut off, integer id
        '{"id": "p-17", "text": "Ann sang .", "response": "Result: {\'PER\': [\'An',  # cut off
        '{"text": "Ann\tsang .", "id": "p-17", "response": "broken \x01',  # id after a raw tab, then broken
        b'{"id": "p-17", "text": "caf\xe9", "response": "Result: {}"}',  # invalid UTF-8 after the id
    ],
    ids=["integer-id", "string-id", "id-later", "invalid-utf8"],
)
def test_an_unparseable_per_line_answer_keeps_its_id(tmp_path, line):
    path = write_lines(tmp_path / "answers.jsonl", [per_line("p-1", "Bob ran .", "Result: {}"), line])
    (reject,) = import_answers([path]).rejects
    assert reject["id"] in ("17", "p-17") and reject["line"] == 2


def test_only_the_outer_objects_id_is_recovered_from_a_broken_line(tmp_path):
    line = '{"response": {"body": {"id": "chatcmpl-1"}}, "custom_id": "r-1", "broken'
    root = tmp_path / "b"
    write_lines(root / "requests.jsonl", [request("r-1", "Ann sang .")])
    write_lines(root / "output.jsonl", [line])
    (reject,) = import_answers([root]).rejects
    assert reject["id"] == "r-1" and reject["reason"] == "broken_json_line"


def test_structured_records_are_imported(tmp_path):
    path = write_lines(
        tmp_path / "s.jsonl",
        [
            structured("s1", ["Ann", "lives", "in", "Oslo"], {"PER": ["Ann"], "LOC": ["Oslo"]}),
            structured("s2", ["x"], {"PER": "not", "LOC": 3}),
        ],
    )
    result = import_answers([path])
    assert result.records[0].tags == ["B-PER", "O", "O", "B-LOC"]
    assert by_id(result.rejects)["s2"]["reason"] == "wrong_shape"


def test_bad_bytes_are_rejected_per_record(tmp_path):
    path = write_lines(
        tmp_path / "p.jsonl",
        [
            per_line("ok", "Ann sang.", "Result: {'PER': ['Ann']}"),
            b'{"id": "bad-utf8", "text": "\xff\xfe", "response": "x"}',
            "[1, 2, 3]",
            "not json at all",
            json.dumps({"something": "else"}),
            per_line("big", "A.", "Result: {'PER': ['" + "x" * (5 * 1024 * 1024) + "']}"),
            per_line("", "No id.", "Result: {}"),
        ],
    )
    result = import_answers([path])
    reasons = sorted(row["reason"] for row in result.rejects)
    assert reasons == [
        "broken_json_line",
        "invalid_utf8",
        "line_too_long",
        "missing_id",
        "wrong_shape",
        "wrong_shape",
    ]
    assert [record.id for record in result.records] == ["ok"]
    assert result.report["read"] == 7


def test_an_empty_bundle_is_one_clear_error(tmp_path):
    (tmp_path / "empty.jsonl").write_text("")
    with pytest.raises(AnswerFilesError, match="no records"):
        import_answers([tmp_path])


def test_a_missing_source_is_an_error(tmp_path):
    with pytest.raises(AnswerFilesError, match="no such file"):
        import_answers([tmp_path / "nope"])


def test_unknown_label_set_synonym_is_an_error():
    from nerd.errors import LabelMapError

    with pytest.raises(LabelMapError):
        LabelSet.conll().with_synonyms({"Person": "HUMAN"})


def test_reimport_is_byte_identical(bundle, tmp_path):
    outputs = []
    for name in ("one", "two"):
        paths = ImportPaths(tmp_path / name, retry_requests=tmp_path / name / "retry.jsonl", conll=True)
        write_import(import_answers([bundle]), paths)
        outputs.append({path.name: path.read_bytes() for path in sorted((tmp_path / name).iterdir())})
    assert outputs[0] == outputs[1]
    assert set(outputs[0]) == {
        "audit.jsonl",
        "data.conll",
        "data.jsonl",
        "duplicates.jsonl",
        "rejects.jsonl",
        "report.json",
        "retry.jsonl",
    }


def test_outputs_never_land_on_inputs(bundle):
    result = import_answers([bundle])
    with pytest.raises(OutputError, match="inside the source directory"):
        check_outputs(ImportPaths(bundle / "out"), [bundle], result.inputs)
    with pytest.raises(OutputError, match="is one of the inputs"):
        check_outputs(
            ImportPaths(bundle.parent / "o", json_report=bundle / "conll" / "output.jsonl"),
            [bundle / "conll"],
            result.inputs,
        )


LINE_PIECES = st.sampled_from(
    [
        output_line("q-1", cot_answer("Result: {'PER': ['Ann']}")),
        output_line("q-1", "Result: {'PER': ['Ann'"),
        output_line("q-2", "x", finish_reason="length"),
        output_line("q-9", "Result: {}"),
        error_line("q-2"),
        '{"custom_id": "q-1", "response": 3}',
        '{"custom_id": 5}',
        "{}",
        "",
    ]
)


@given(st.lists(st.one_of(LINE_PIECES, st.binary(max_size=40)), max_size=8))
def test_any_requests_file_is_accounted_for(tmp_path_factory, lines):
    root = tmp_path_factory.mktemp("r")
    write_lines(root / "requests.jsonl", [request("q-1", "Ann sang ."), *lines, request("q-2", "Bob ran .")])
    write_lines(root / "output.jsonl", [output_line("q-1", "Result: {}"), output_line("q-2", "Result: {}")])
    result = import_answers([root])
    report = result.report
    assert report["read"] == report["imported"] + report["rejected"] + report["duplicates"]
    ids = [record.id for record in result.records] + [row["id"] for row in result.rejects]
    # Each good request is imported or rejected once (a broken line may claim its id too).
    assert {"q-1", "q-2"} <= set(ids)


@given(st.lists(st.one_of(LINE_PIECES, st.binary(max_size=40)), max_size=12))
def test_any_output_file_is_accounted_for(tmp_path_factory, lines):
    root = tmp_path_factory.mktemp("b")
    write_lines(root / "requests.jsonl", [request("q-1", "Ann sang ."), request("q-2", "Bob ran .")])
    write_lines(root / "output.jsonl", lines)
    result = import_answers([root])
    report = result.report
    assert report["read"] == report["imported"] + report["rejected"] + report["duplicates"]
    ids = [record.id for record in result.records] + [
        row["id"] for row in result.rejects if row["id"] is not None
    ]
    assert {"q-1", "q-2"} <= set(ids)
    assert len([i for i in ids if i in ("q-1", "q-2")]) == 2


JSON_VALUES = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.text(max_size=12)
    | st.sampled_from(["Result: {'PER': ['A']}", "length"]),
    lambda inner: st.lists(inner, max_size=3) | st.dictionaries(st.text(max_size=5), inner, max_size=3),
    max_leaves=8,
)
FIELDS = ["id", "custom_id", "text", "tokens", "response", "entities", "finish_reason", "model", "error"]


@given(st.lists(st.dictionaries(st.sampled_from(FIELDS), JSON_VALUES, min_size=1), min_size=1, max_size=8))
def test_any_json_records_are_accounted_for(tmp_path_factory, records):
    root = tmp_path_factory.mktemp("j")
    write_lines(root / "records.jsonl", [json.dumps(record) for record in records])
    try:
        result = import_answers([root])
    except AnswerFilesError as error:
        # The only bundle-wide errors such lines can cause.
        unknown = all(shape_of(record) is None for record in records)
        assert "without its requests file" in str(error) or (
            unknown and "no record of a known shape" in str(error)
        )
        return
    report = result.report
    assert report["read"] == len(records)
    assert report["read"] == report["imported"] + report["rejected"] + report["duplicates"]


def test_hallucinations_copied_from_the_few_shot_examples_are_told_apart(tmp_path):
    from nerd.annotation.batch_requests import request_line
    from nerd.annotation.prompt_templates import Template, build_messages
    from nerd.conll import Sentence
    from nerd.labels import CONLL_DEFINITIONS

    example = Sentence(("Ann", "visited", "Oslo", "."), ("B-PER", "O", "B-LOC", "O"))
    messages = build_messages(Template.cot, CONLL_DEFINITIONS, ["Smith", "left", "."], [example])
    requests = write_lines(tmp_path / "requests.jsonl", [request_line("x-1", "teacher-x", 0.0, messages)])
    answer = cot_answer('Result: {"PER": ["Smith"], "LOC": ["Oslo", "Tokyo"]}')
    output = write_lines(tmp_path / "output.jsonl", [output_line("x-1", answer)])
    result = import_answers([requests, output], ImportOptions())
    hallucinated = {e["text"]: e["copied_from_prompt"] for e in result.events if e["kind"] == "hallucinated"}
    assert hallucinated == {"Oslo": True, "Tokyo": False}
    assert result.report["entities"]["hallucinated_copied_from_prompt"] == 1
    assert result.records[0].tags == ["B-PER", "O", "O"]


def test_an_integer_of_thousands_of_digits_rejects_its_record_and_the_rest_imports(tmp_path):
    huge = "9" * 5000  # Python's int parsing refuses more than 4,300 digits
    requests = write_lines(
        tmp_path / "requests.jsonl",
        [request("h-1", "Ann ran ."), request("h-2", "Bob ran ."), request("h-3", "Cy ran .")],
    )
    in_record = output_line("h-1", cot_answer('Result: {"PER": ["Ann"]}'))[:-1] + f', "n": {huge}}}'
    in_answer = output_line("h-2", cot_answer('Result: {"PER": [' + huge + "]}"))
    fine = output_line("h-3", cot_answer('Result: {"PER": ["Cy"]}'))
    output = write_lines(tmp_path / "output.jsonl", [in_record, in_answer, fine])
    result = import_answers([requests, output], ImportOptions())
    reasons = {reject["id"]: reject["reason"] for reject in result.rejects}
    assert reasons == {"h-1": "broken_json_line", "h-2": "malformed_dict"}
    assert [record.id for record in result.records] == ["h-3"]
    assert result.report["read"] == 3


def test_a_lone_surrogate_in_any_field_rejects_its_record_and_the_rest_is_written(tmp_path):
    """Issue 25, item 7: a "\\ud800" escape ended the import with UnicodeEncodeError, nothing written."""
    root = tmp_path / "bundle"
    root.mkdir()
    write_lines(root / "requests.jsonl", [request(f"q-{n}", "Ann sang in Oslo .") for n in range(4)])
    good = output_line("q-0", cot_answer("Result: {'PER': ['Ann']}"))
    in_text = output_line("q-1", cot_answer("Result: {'PER': ['Ann\\ud800']}")).replace(
        "\\\\ud800", "\\ud800"
    )
    in_custom_id = output_line("q-2", "x").replace('"custom_id": "q-2"', '"custom_id": "q-\\udc80"')
    in_status = output_line("q-3", "x").replace('"status_code": 200', '"status_code": "\\ud800"')
    per_line_export = json.dumps({"id": "p-1", "text": "Ann sang .", "response": "x"}).replace(
        'x"}', '\\ud800"}'
    )
    write_lines(root / "output.jsonl", [good, in_text, in_custom_id, in_status, per_line_export])
    paths = ImportPaths(tmp_path / "out", retry_requests=tmp_path / "out" / "retry.jsonl", conll=True)
    result = import_answers([root])
    write_import(result, paths)
    assert [record.id for record in result.records] == ["q-0"]
    surrogates = [row for row in result.rejects if row["reason"] == "lone_surrogate"]
    assert len(surrogates) == 4, result.rejects
    assert all("lone surrogate" in row["detail"] for row in surrogates)
    written = (tmp_path / "out" / "rejects.jsonl").read_text(encoding="utf-8").splitlines()
    assert sum(json.loads(line)["reason"] == "lone_surrogate" for line in written) == 4


def test_nerd_import_strict_stops_at_a_bad_request_line_and_writes_nothing(tmp_path):
    from typer.testing import CliRunner

    from nerd.cli.main import app

    root = _three_requests_one_broken(tmp_path, "{not json")
    out = tmp_path / "out"
    strict = CliRunner().invoke(app, ["import", str(root), "--out", str(out), "--strict"])
    assert strict.exit_code == 1 and "requests.jsonl:2" in strict.output and not out.exists()
    lenient = CliRunner().invoke(app, ["import", str(root), "--out", str(out)])
    assert lenient.exit_code == 0, lenient.output
    assert [json.loads(line)["reason"] for line in (out / "rejects.jsonl").read_text().splitlines()] == [
        "bad_request",
        "unknown_custom_id",
    ]
