import json

import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.errors import LabelMapError
from nerd.training.label_space import LabelSpace, build_label_space, load_label_map
from nerd.training.sources import Example, Source, relabel


def source(role, *tag_rows):
    return Source(role, (), tuple(Example(tuple("w" * len(tags)), tuple(tags)) for tags in tag_rows))


def test_the_union_of_agreeing_sources():
    space = build_label_space(
        [source("distilled", ["B-PER", "B-LOC"]), source("original", ["B-LOC", "I-LOC", "B-PER"])],
        source("dev", ["B-PER"]),
    )
    assert space.labels == ("O", "B-LOC", "I-LOC", "B-PER", "I-PER")
    assert space.id2label[0] == "O" and space.label2id["I-PER"] == 4


def test_a_type_in_one_source_only_is_an_error_that_suggests_a_map():
    with pytest.raises(LabelMapError, match=r"'MISC' appears in the distilled data but not in the original"):
        build_label_space(
            [source("distilled", ["B-MISC", "B-PER"]), source("original", ["B-PER"])], source("dev", ["O"])
        )


def test_a_label_map_settles_it():
    mapping = {"MISC": "MISC"}
    space = build_label_space(
        [source("distilled", ["B-MISC", "B-PER"]), source("original", ["B-PER"])],
        source("dev", ["O"]),
        mapping,
    )
    assert space.types == ("MISC", "PER")


def test_dev_types_the_model_cannot_learn_are_an_error():
    with pytest.raises(LabelMapError, match="dev data uses LOC"):
        build_label_space([source("original", ["B-PER"])], source("dev", ["B-LOC"]))


def test_training_data_without_entities_is_an_error():
    with pytest.raises(LabelMapError, match="no entities"):
        build_label_space([source("original", ["O"])], source("dev", ["O"]))


def test_relabel_merges_and_drops_types_and_keeps_valid_iob2():
    mapped = relabel(
        source("original", ["B-GPE", "I-GPE", "B-DATE", "I-DATE", "O"]), {"GPE": "LOC", "DATE": "O"}
    )
    assert mapped.examples[0].tags == ("B-LOC", "I-LOC", "O", "O", "O")
    merged = relabel(source("original", ["B-DATE", "I-GPE"]), {"DATE": "O"})
    assert merged.examples[0].tags == ("O", "B-GPE")


def test_label_map_files(tmp_path):
    path = tmp_path / "map.json"
    path.write_text(json.dumps({"GPE": "LOC", "DATE": "O"}))
    assert load_label_map(path) == {"GPE": "LOC", "DATE": "O"}
    path.write_text(json.dumps({"GPE": 3}))
    with pytest.raises(LabelMapError, match=r"map.json: expected a JSON object of strings"):
        load_label_map(path)
    path.write_text(json.dumps({"B-X Y": "LOC"}))
    with pytest.raises(LabelMapError, match="cannot be an entity type"):
        load_label_map(path)
    with pytest.raises(LabelMapError, match="cannot read"):
        load_label_map(tmp_path / "missing.json")


@given(st.binary(max_size=200))
def test_any_bytes_are_a_map_or_a_clear_rejection(tmp_path_factory, data):
    path = tmp_path_factory.mktemp("maps") / "map.json"
    path.write_bytes(data)
    try:
        mapping = load_label_map(path)
    except LabelMapError as error:
        assert str(path) in str(error)
    else:
        assert all(isinstance(k, str) and isinstance(v, str) for k, v in mapping.items())


def test_label_space_sorts_and_deduplicates():
    assert LabelSpace(("PER", "LOC", "PER")).types == ("LOC", "PER")
