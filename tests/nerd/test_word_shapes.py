from hypothesis import given
from hypothesis import strategies as st

from nerd.word_shapes import SHAPE_NAMES, WordShape, lowered, word_shape, word_shapes


def test_each_shape_from_examples():
    cases = {
        "musk": WordShape.LOWER,
        "Musk": WordShape.TITLE,
        "É": WordShape.TITLE,
        "NATO": WordShape.UPPER,
        "U.S.": WordShape.UPPER,
        "McDonald": WordShape.MIXED,
        "eBay": WordShape.MIXED,
        "1996": WordShape.DIGITS,
        "+44": WordShape.DIGITS,
        "—": WordShape.OTHER,
        "北京": WordShape.OTHER,
        "": WordShape.OTHER,
        "Straße": WordShape.TITLE,
    }
    assert {word: word_shape(word) for word in cases} == cases
    assert SHAPE_NAMES == ("lower", "title", "upper", "mixed", "digits", "other")


@given(st.text(max_size=20))
def test_any_word_has_one_shape_and_its_lower_case_copy_has_the_lowered_one(word):
    shape = word_shape(word)
    assert shape in WordShape
    assert lowered([shape]) == word_shapes([word.lower()]) or any(c.isupper() for c in word.lower())
    assert lowered(lowered([shape])) == lowered([shape])
