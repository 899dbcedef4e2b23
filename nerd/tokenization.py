"""CoNLL-style tokenisation of raw text, with character offsets, and a rule-based sentence splitter.

``prompts`` and ``import`` both go through :func:`tokenize`, so an annotation request built from raw
text and the answer that comes back are aligned against the very same tokens.

>>> [t.text for t in tokenize("Germany's exports rose 3.5% in the U.S., officials said.")]
['Germany', "'s", 'exports', 'rose', '3.5', '%', 'in', 'the', 'U.S.', ',', 'officials', 'said', '.']

Where CoNLL-2003 keeps a token whole, so does this tokenizer, so that the service's words are the words
the model was trained on (a table's places, currencies, batting averages, dialling codes):

>>> tokenize_words("1. Hill ( U.S. ) C$ 1.5 million")
['1.', 'Hill', '(', 'U.S.', ')', 'C$', '1.5', 'million']
>>> tokenize_words("hit .500 on Oct. 3, +0.4; call +44 171")
['hit', '.500', 'on', 'Oct.', '3', ',', '+0.4', ';', 'call', '+44', '171']

and so does a tweet's (the Broad Twitter Corpus keeps them whole):

>>> tokenize_words("@Reuters: #Gaza talks http://t.co/x1Y.")
['@Reuters', ':', '#Gaza', 'talks', 'http://t.co/x1Y', '.']
"""

from __future__ import annotations

import re
from typing import NamedTuple


class Token(NamedTuple):
    """A token and its character offsets in the text it came from (``text[start:end] == token``)."""

    text: str
    start: int
    end: int


# Words written with a full stop that neither ends the sentence nor stands apart: "Mr.", "Inc.".
_ABBREVIATIONS = frozenset(
    "mr mrs ms dr prof sr jr st mt gen col lt sgt capt cmdr gov sen rep rev hon inc ltd co corp plc "
    "bros vs etc no nos vol fig approx dept est jan feb mar apr jun jul aug sep sept oct nov dec "
    "mon tue wed thu fri sat sun".split()
)
# Kept with their dot as one token; a shorter list, since "no." or "sun." can end a sentence.
_TITLES = (
    "mrs|mr|ms|dr|prof|sr|jr|st|gen|col|lt|sgt|capt|gov|sen|rev|inc|ltd|corp|co|bros|vs|etc"
    "|jan|feb|aug|sept|sep|oct|nov|dec"  # months whose short forms are not also words
)

# Order matters: the first alternative that matches at a position wins.
_TOKEN = re.compile(
    rf"""
    (?:https?://|www\.)\S+?(?=[.,;:!?)\]"']*(?:\s|$))  # web addresses, without a closing full stop
    | (?<![\w@#])[@#]\w+                      # mentions and hashtags: @Reuters #Gaza
    | (?i:(?<![\w.])(?:{_TITLES})\.)          # titles and abbreviations: Mr. Inc. Oct.
    | (?m:^)\d{{1,3}}[.=](?=\s)                # a list's or a results table's place at a line start: 1. 3=
    | (?<![\w$])[A-Z]{{1,3}}\$                 # currencies written with a country: C$ US$ HK$
    | (?<![\w.+])(?:\.\d+|\+\d+(?:[.,]\d+)*)   # decimals without a leading zero, signed, codes: .500 +0.4 +44
    | (?<![\w.])[A-Z]\.(?=\s+[A-Z])           # initials: John F. Kennedy
    | (?:[A-Za-z]\.){{2,}}(?![A-Za-z])          # abbreviations with inner dots: U.S., U.N.
    | \d+(?:[.,:/]\d+)+                       # numbers, times and dates: 3.5 1,000 10:30 1/2
    | (?i:n't)(?!\w)                          # the clitic of don't, can't (CoNLL: do n't)
    | ['’](?i:s|re|ve|ll|d|m)(?!\w)           # clitics and the possessive 's
    | \w+?(?=(?i:n't)(?!\w))                  # the word before n't
    | \w+(?:[-&]\w+|['’](?!(?i:s|re|ve|ll|d|m)(?!\w))\w+)*  # words, hyphenated words, O'Neill, AT&T
    | \.{{2,}}|-{{2,}}                             # ellipses and dashes
    | \S                                      # any other single character: punctuation, symbols
    """,
    re.VERBOSE,
)


def tokenize(text: str) -> list[Token]:
    """Split text into CoNLL-style tokens: punctuation apart, clitics and possessives apart."""
    return [Token(match.group(), match.start(), match.end()) for match in _TOKEN.finditer(text)]


def tokenize_words(text: str) -> list[str]:
    """Just the token strings of :func:`tokenize`."""
    return [match.group() for match in _TOKEN.finditer(text)]


_SENTENCE_END = re.compile(r"""[.!?]+['"’”)\]]*(?=\s+)""")
_NEXT_STARTS_SENTENCE = re.compile(r"""\s+['"‘“(\[]*[A-Z0-9]""")


def split_sentences(text: str) -> list[str]:
    """Split running text (an article, a paragraph) into sentences.

    A sentence ends at ``.``, ``!`` or ``?`` (with closing quotes or brackets) followed by whitespace
    and a capital letter or digit, unless the word before the full stop is a known abbreviation or a
    single initial. Line breaks that leave a blank line always end a sentence.
    """
    sentences: list[str] = []
    for block in re.split(r"\n\s*\n", text):
        start = 0
        for match in _SENTENCE_END.finditer(block):
            end = match.end()
            if not _NEXT_STARTS_SENTENCE.match(block, end):
                continue
            if match.group().startswith(".") and _is_abbreviation(block[start : match.start()]):
                continue
            piece = block[start:end].strip()
            if piece:
                sentences.append(" ".join(piece.split()))
            start = end
        tail = block[start:].strip()
        if tail:
            sentences.append(" ".join(tail.split()))
    return sentences


def _is_abbreviation(before: str) -> bool:
    words = before.split()
    if not words:
        return False
    last = words[-1].strip("\"'([")
    if len(last) == 1 and last.isalpha() and last.isupper():
        return True  # an initial: "John F. Kennedy"
    if re.fullmatch(r"(?:[A-Za-z]\.)+[A-Za-z]", last):
        return True  # the inner dots of U.S. or U.K. before the final one
    return last.lower() in _ABBREVIATIONS
