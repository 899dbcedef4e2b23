from hypothesis import given
from hypothesis import strategies as st

from nerd.evaluation.error_analysis import KINDS, NONE, analyse_errors, sentence_errors
from nerd.spans import iob2_to_spans, repair_iob2


def kinds(gold, predicted):
    return [kind for kind, _, _ in sentence_errors(0, gold, predicted).errors]


def test_each_kind_of_error():
    assert kinds(["B-PER", "I-PER"], ["B-ORG", "I-ORG"]) == ["wrong_type"]
    assert kinds(["B-PER", "I-PER"], ["B-PER", "O"]) == ["wrong_boundary"]
    assert kinds(["B-PER", "I-PER", "O"], ["O", "B-LOC", "I-LOC"]) == ["wrong_both"]
    assert kinds(["B-PER", "O"], ["O", "O"]) == ["missed"]
    assert kinds(["O", "O"], ["O", "B-LOC"]) == ["spurious"]
    assert kinds(["B-PER", "O", "B-LOC"], ["B-PER", "O", "B-LOC"]) == []


def test_the_confusion_matrix_has_correct_entities_on_its_diagonal():
    analysis = analyse_errors([["B-PER", "O", "B-LOC"], ["B-ORG"]], [["B-PER", "O", "B-ORG"], ["O"]])
    assert analysis.confusion["PER"]["PER"] == 1
    assert analysis.confusion["LOC"]["ORG"] == 1 and analysis.confusion["ORG"][NONE] == 1
    assert analysis.counts == {
        "wrong_type": 1,
        "wrong_boundary": 0,
        "wrong_both": 0,
        "missed": 1,
        "spurious": 0,
    }
    assert [s.index for s in analysis.sentences] == [0, 1]


tags = st.lists(st.sampled_from(["O", "B-PER", "I-PER", "B-LOC", "I-LOC"]), min_size=0, max_size=15)


@given(st.data())
def test_every_entity_is_counted_exactly_once(data):
    gold = repair_iob2(data.draw(tags))
    predicted = repair_iob2(
        data.draw(st.lists(st.sampled_from(["O", "B-PER", "I-LOC"]), min_size=len(gold), max_size=len(gold)))
    )
    analysis = analyse_errors([gold], [predicted])
    correct = len(set(iob2_to_spans(gold)) & set(iob2_to_spans(predicted)))
    paired = sum(analysis.counts[k] for k in KINDS[:3])
    assert correct + paired + analysis.counts["missed"] == len(iob2_to_spans(gold))
    assert correct + paired + analysis.counts["spurious"] == len(iob2_to_spans(predicted))
    assert (
        sum(sum(row.values()) for row in analysis.confusion.values())
        == correct + paired + analysis.counts["missed"] + analysis.counts["spurious"]
    )
