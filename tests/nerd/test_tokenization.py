from hypothesis import given
from hypothesis import strategies as st

from nerd.tokenization import split_sentences, tokenize, tokenize_words


def test_conll_style_tokens():
    assert tokenize_words("Germany's exports rose 3.5% in the U.S., officials said.") == [
        "Germany",
        "'s",
        "exports",
        "rose",
        "3.5",
        "%",
        "in",
        "the",
        "U.S.",
        ",",
        "officials",
        "said",
        ".",
    ]
    assert tokenize_words("I don't know O'Neill of AT&T -- really...") == [
        "I",
        "do",
        "n't",
        "know",
        "O'Neill",
        "of",
        "AT&T",
        "--",
        "really",
        "...",
    ]


def test_titles_and_initials_keep_their_dot_but_sentence_ends_do_not():
    assert tokenize_words("Mr. John F. Kennedy of Acme Inc. said no.") == [
        "Mr.",
        "John",
        "F.",
        "Kennedy",
        "of",
        "Acme",
        "Inc.",
        "said",
        "no",
        ".",
    ]


def test_sentence_split_keeps_abbreviations_and_initials():
    text = 'Mr. Smith met Dr. Jones. "It went well," he said. John F. Kennedy spoke.\n\nNew paragraph here'
    assert split_sentences(text) == [
        "Mr. Smith met Dr. Jones.",
        '"It went well," he said.',
        "John F. Kennedy spoke.",
        "New paragraph here",
    ]


@given(st.text(max_size=200))
def test_offsets_point_at_the_token(text):
    tokens = tokenize(text)
    for token in tokens:
        assert text[token.start : token.end] == token.text
        assert token.text.strip() == token.text and token.text
    assert [t.start for t in tokens] == sorted(t.start for t in tokens)
    # Nothing but whitespace is left between tokens.
    covered = "".join(t.text for t in tokens)
    assert covered == "".join(text.split()) or len(covered) <= len(text)
