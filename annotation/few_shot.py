"""Choosing few-shot examples from a gold file: a fixed set, or the most similar ones per sentence.

Per-sentence selection by similarity is the paper's proposed improvement; similarity here is lexical
(TF-IDF cosine over lower-cased words), which needs no model and runs anywhere.
"""

from __future__ import annotations

import heapq
import math
import random
from collections import Counter, defaultdict
from collections.abc import Sequence
from enum import StrEnum

from nerd.conll import Sentence
from nerd.spans import iob2_to_spans


class Selection(StrEnum):
    """How examples are picked."""

    fixed = "fixed"
    similar = "similar"


def _terms(tokens: Sequence[str]) -> Counter[str]:
    return Counter(token.lower() for token in tokens if any(char.isalnum() for char in token))


class ExamplePicker:
    """Picks ``shots`` gold sentences for each sentence to annotate."""

    def __init__(self, pool: Sequence[Sentence], shots: int, selection: Selection, *, seed: int = 0) -> None:
        self.pool = list(pool)
        self.shots = min(shots, len(self.pool))
        self.selection = selection
        self._fixed = self._pick_fixed(seed) if selection is Selection.fixed else []
        if selection is Selection.similar:
            self._index_pool()

    def _pick_fixed(self, seed: int) -> list[int]:
        """A seeded sample that covers every label of the pool before it repeats any."""
        order = list(range(len(self.pool)))
        random.Random(seed).shuffle(order)
        chosen: list[int] = []
        covered: set[str] = set()
        for index in order:
            labels = {span.label for span in iob2_to_spans(self.pool[index].tags)}
            if labels - covered and len(chosen) < self.shots:
                chosen.append(index)
                covered |= labels
        for index in order:
            if len(chosen) >= self.shots:
                break
            if index not in chosen:
                chosen.append(index)
        return chosen

    def _index_pool(self) -> None:
        count = len(self.pool)
        self._postings: dict[str, list[tuple[int, float]]] = defaultdict(list)
        document_frequency: Counter[str] = Counter()
        pool_terms = [_terms(sentence.tokens) for sentence in self.pool]
        for terms in pool_terms:
            document_frequency.update(terms.keys())
        self._idf = {term: math.log((1 + count) / (1 + df)) + 1 for term, df in document_frequency.items()}
        for index, terms in enumerate(pool_terms):
            weights = {term: tf * self._idf[term] for term, tf in terms.items()}
            norm = math.sqrt(sum(weight * weight for weight in weights.values())) or 1.0
            for term, weight in weights.items():
                self._postings[term].append((index, weight / norm))

    def examples_for(self, tokens: Sequence[str]) -> list[Sentence]:
        """The examples to show before ``tokens`` (never the sentence itself)."""
        if self.shots == 0:
            return []
        if self.selection is Selection.fixed:
            return [self.pool[index] for index in self._fixed if self.pool[index].tokens != tuple(tokens)][
                : self.shots
            ]
        scores: dict[int, float] = defaultdict(float)
        terms = _terms(tokens)
        weights = {term: tf * self._idf[term] for term, tf in terms.items() if term in self._idf}
        for term, weight in weights.items():
            for index, pool_weight in self._postings[term]:
                scores[index] += weight * pool_weight
        same = tuple(tokens)
        ranked = heapq.nsmallest(
            self.shots + 1,
            ((-score, index) for index, score in scores.items() if self.pool[index].tokens != same),
        )
        chosen = [index for _, index in ranked[: self.shots]]
        # A sentence sharing no word with the pool still gets its shots: fill from the pool's start.
        filler = (
            index
            for index in range(len(self.pool))
            if index not in chosen and self.pool[index].tokens != same
        )
        while len(chosen) < self.shots:
            extra = next(filler, None)
            if extra is None:
                break
            chosen.append(extra)
        # Most similar last, closest to the sentence being asked about.
        return [self.pool[index] for index in reversed(chosen)]
