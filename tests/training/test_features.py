import functools

from hypothesis import given
from hypothesis import strategies as st

from nerd.training.features import IGNORED, encode
from nerd.training.label_space import LabelSpace
from nerd.training.sources import Example

SPACE = LabelSpace(("LOC", "PER"))


def tokenizer_of(tiny_encoder):
    from transformers import AutoTokenizer

    return AutoTokenizer.from_pretrained(tiny_encoder)


def test_each_word_is_labelled_on_its_first_subtoken_only(tiny_encoder):
    tokenizer = tokenizer_of(tiny_encoder)
    example = Example(("Alma", "visited", "Zzyzx"), ("B-PER", "O", "B-LOC"))
    (feature,) = encode([example], tokenizer, SPACE, 32)
    assert feature.input_ids[0] == tokenizer.cls_token_id and feature.input_ids[-1] == tokenizer.sep_token_id
    labelled = [(i, label) for i, label in enumerate(feature.labels) if label != IGNORED]
    assert [i for i, _ in labelled] == feature.word_starts
    assert [SPACE.labels[label] for _, label in labelled] == list(example.tags)
    # "zzyzx" is not in the vocabulary: several pieces, only the first labelled
    assert len(feature.input_ids) - 2 > 3


def test_label_all_subtokens_continues_an_entity_with_inside_labels(tiny_encoder):
    tokenizer = tokenizer_of(tiny_encoder)
    (feature,) = encode([Example(("Zzyzx",), ("B-LOC",))], tokenizer, SPACE, 32, label_all_subtokens=True)
    labels = [SPACE.labels[label] for label in feature.labels if label != IGNORED]
    assert labels[0] == "B-LOC" and set(labels[1:]) == {"I-LOC"} and len(labels) > 1


def test_long_sentences_become_windows_that_keep_every_word_once(tiny_encoder):
    tokenizer = tokenizer_of(tiny_encoder)
    words = tuple(["Alma", "visited", "Quenby", "today"] * 15)
    tags = tuple(["B-PER", "O", "B-LOC", "O"] * 15)
    features = encode([Example(words, tags)], tokenizer, SPACE, 16)
    assert len(features) > 1 and all(len(f) <= 16 for f in features)
    covered = [f.first_word + i for f in features for i in range(len(f.word_starts))]
    assert covered == list(range(len(words)))
    labels = [SPACE.labels[f.labels[p]] for f in features for p in f.word_starts]
    assert labels == list(tags)


def test_a_word_the_tokenizer_reads_as_nothing_still_gets_a_slot(tiny_encoder):
    tokenizer = tokenizer_of(tiny_encoder)
    (feature,) = encode([Example(("Alma", "\u200b", "went"), ("B-PER", "O", "O"))], tokenizer, SPACE, 16)
    assert len(feature.word_starts) == 3
    assert feature.input_ids[feature.word_starts[1]] == tokenizer.unk_token_id


@given(
    words=st.lists(st.text(min_size=1, max_size=12), min_size=1, max_size=40), max_length=st.integers(8, 40)
)
def test_any_words_are_all_covered_within_the_length(tiny_encoder, words, max_length):
    features = encode(
        [Example(tuple(words), ("O",) * len(words))], _tokenizer(tiny_encoder), SPACE, max_length
    )
    assert all(len(f) <= max_length for f in features)
    assert [f.first_word + i for f in features for i in range(len(f.word_starts))] == list(range(len(words)))


@functools.cache
def _tokenizer(path):
    return tokenizer_of(path)
