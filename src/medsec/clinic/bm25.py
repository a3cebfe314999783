"""Okapi BM25 ranking, implemented here so retrieval needs no extra packages.

Tokens are lowercase runs of letters and digits, minus a short stop-word list, with a light plural
folding (``doses`` → ``dose``, ``therapies`` → ``therapy``) and a few aliases (``max`` → ``maximum``).
Scores use the Lucene form of the inverse document frequency, which is never negative.
"""

from __future__ import annotations

import math
import re
from collections import Counter

_STOP_TEXT = """
a an and are as at be been but by can could do does for from had has have how i if in into is it its me my
of on or our should so than that the their them then there these they this those to was we were what when
where which while who whom why will with would you your
"""
STOP_WORDS = frozenset(_STOP_TEXT.split())
ALIASES = {"max": "maximum", "min": "minimum", "dosage": "dose", "dosing": "dose", "dosed": "dose"}
_TOKEN = re.compile(r"[a-z0-9]+")


def _fold(token: str) -> str:
    token = ALIASES.get(token, token)
    if len(token) > 4 and token.endswith("ies"):
        return token[:-3] + "y"
    if len(token) > 3 and token.endswith("s") and not token.endswith(("ss", "us", "is")):
        return token[:-1]
    return token


def tokenize(text: str) -> list[str]:
    """Split ``text`` into index terms (see the module docstring)."""
    return [_fold(t) for t in _TOKEN.findall(text.lower()) if t not in STOP_WORDS]


class Bm25Index:
    """An incremental BM25 index over string keys.

    Args:
        k1: Term-frequency saturation.
        b: Length normalisation.
    """

    def __init__(self, k1: float = 1.5, b: float = 0.75) -> None:
        self.k1 = k1
        self.b = b
        self._keys: list[str] = []
        self._tf: list[Counter[str]] = []
        self._lengths: list[int] = []
        self._postings: dict[str, list[int]] = {}

    def __len__(self) -> int:
        return len(self._keys)

    def add(self, key: str, text: str) -> None:
        """Index ``text`` under ``key``."""
        terms = Counter(tokenize(text))
        doc = len(self._keys)
        self._keys.append(key)
        self._tf.append(terms)
        self._lengths.append(sum(terms.values()))
        for term in terms:
            self._postings.setdefault(term, []).append(doc)

    def search(self, query: str, k: int) -> list[tuple[str, float]]:
        """The ``k`` best keys for ``query`` with their scores, best first; non-matching keys are left out."""
        n = len(self._keys)
        if n == 0 or k <= 0:
            return []
        avg = sum(self._lengths) / n or 1.0
        scores: dict[int, float] = {}
        for term in dict.fromkeys(tokenize(query)):
            docs = self._postings.get(term, [])
            idf = math.log(1 + (n - len(docs) + 0.5) / (len(docs) + 0.5))
            for doc in docs:
                tf = self._tf[doc][term]
                norm = tf + self.k1 * (1 - self.b + self.b * self._lengths[doc] / avg)
                scores[doc] = scores.get(doc, 0.0) + idf * tf * (self.k1 + 1) / norm
        best = sorted(scores.items(), key=lambda item: (-item[1], item[0]))[:k]
        return [(self._keys[doc], score) for doc, score in best]
