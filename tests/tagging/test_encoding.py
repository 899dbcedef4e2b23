import pytest
from hypothesis import given
from hypothesis import strategies as st

from nerd.tagging.encoding import WordEncoder

words = st.lists(st.text(min_size=0, max_size=12), max_size=40)


@pytest.fixture(scope="module")
def encoder_and_tokenizer(tiny_encoder):
    from transformers import AutoTokenizer

    return WordEncoder(tiny_encoder / "tokenizer.json", 16), AutoTokenizer.from_pretrained(tiny_encoder)


def test_windows_match_what_training_encodes(encoder_and_tokenizer):
    from nerd.training.features import encode
    from nerd.training.label_space import LabelSpace
    from nerd.training.sources import Example

    encoder, tokenizer = encoder_and_tokenizer
    sentences = [
        ["Alma", "met", "Borel", "in", "Quenby"] * 5,
        ["zxqwv", "\u200b", "Tarn", "today"],  # an unknown word and one that tokenises to nothing
        ["a" * 40, "went"],  # one word longer than a window
    ]
    examples = [Example(tuple(s), tuple("O" for _ in s)) for s in sentences]
    features = encode(examples, tokenizer, LabelSpace(("PER",)), 16)
    windows = encoder.encode(sentences)
    assert [w.input_ids for w in windows] == [f.input_ids for f in features]
    assert [(w.sentence, w.first_word, w.word_starts) for w in windows] == [
        (f.sentence, f.first_word, f.word_starts) for f in features
    ]


@given(st.lists(words, max_size=6))
def test_every_word_of_any_input_gets_exactly_one_start(encoder_and_tokenizer, sentences):
    encoder, _ = encoder_and_tokenizer
    windows = encoder.encode(sentences)
    for index, sentence in enumerate(sentences):
        own = [w for w in windows if w.sentence == index]
        covered = [w.first_word + offset for w in own for offset in range(len(w.word_starts))]
        assert covered == list(range(len(sentence)))
        assert all(len(w) <= 16 for w in own)


def test_word_shapes_ride_with_every_sub_token_as_training_gives_them(tiny_encoder):
    from transformers import AutoTokenizer

    from nerd.training.features import encode
    from nerd.training.label_space import LabelSpace
    from nerd.training.sources import Example

    encoder = WordEncoder(tiny_encoder / "tokenizer.json", 16, shapes=True)
    sentences = [
        ["Alma", "MET", "borel", "iN", "1996", "--"] * 3,
        ["zxqwv", "Tarn"],
        ["A" * 40],
        ["ALMA", "MET", "1"],
    ]
    windows = encoder.encode(sentences)
    examples = [Example(tuple(s), tuple("O" for _ in s)) for s in sentences]
    tokenizer = AutoTokenizer.from_pretrained(tiny_encoder)
    features = encode(examples, tokenizer, LabelSpace(("PER",)), 16, shapes=True)
    assert [w.shape_ids for w in windows] == [f.shape_ids for f in features]
    first = windows[0]
    assert len(first.shape_ids) == len(first.input_ids)
    assert first.shape_ids[0] == 0 and first.shape_ids[-1] == 0  # [CLS] and [SEP]
    assert [first.shape_ids[start] for start in first.word_starts] == ([1, 2, 0, 3, 4, 5] * 3)[
        : len(first.word_starts)
    ]
    # A sentence in capitals reads as lower-cased: the same in training and in serving (compared above).
    assert [windows[-1].shape_ids[start] for start in windows[-1].word_starts] == [0, 0, 4]
    # A model without shapes gets none, and its token types stay zeros.
    assert WordEncoder(tiny_encoder / "tokenizer.json", 16).encode(sentences)[0].shape_ids is None


def test_model_inputs_carry_shapes_as_token_types_only_where_the_graph_reads_them(tiny_encoder):
    from nerd.tagging.encoding import model_inputs

    encoder = WordEncoder(tiny_encoder / "tokenizer.json", 16, shapes=True)
    windows = encoder.encode([["Alma", "went"], ["TARN"]])
    feed = model_inputs(windows, 0, {"input_ids", "attention_mask", "token_type_ids"})
    assert feed["token_type_ids"].tolist()[1][: len(windows[1])] == windows[1].shape_ids
    assert feed["token_type_ids"][1, len(windows[1]) :].sum() == 0  # padding
    assert set(model_inputs(windows, 0, {"input_ids", "attention_mask"})) == {"input_ids", "attention_mask"}
