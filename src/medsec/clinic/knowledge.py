"""The clinical knowledge base: short written passages with stable ids, and retrieval over them.

Shipped passages live in ``data/knowledge/*.yaml`` (one topic per file) and are ``trusted``. The
insider write API, :meth:`KnowledgeBase.insert`, adds passages the way a poisoner with write access to
a document store would; they are marked ``origin="inserted"`` so a provenance check can tell them apart,
and can be kept in an overlay directory so a poisoned corpus survives a restart.

Retrieval is BM25 by default. Another ranking (embeddings, say) plugs in as a :data:`RetrieverFactory`:
a callable that takes the passages and returns a :class:`Retriever`. medsec ships no embedding
retriever; one belongs behind an optional extra.
"""

from __future__ import annotations

import hashlib
import os
import threading
from collections.abc import Callable, Sequence
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal, Protocol

import yaml
from pydantic import Field, StringConstraints

from medsec.clinic.bm25 import Bm25Index
from medsec.config import load_config
from medsec.errors import ConfigError, MedsecError
from medsec.types import Frozen

PassageId = Annotated[str, StringConstraints(pattern=r"^kb-[a-z0-9]+(-[a-z0-9]+)*$", max_length=80)]
Topic = Literal["dosing", "renal", "interaction", "contraindication", "treatment", "red-flag", "safety"]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
OVERLAY_FILE = "inserted.yaml"


class KnowledgeError(MedsecError):
    """A knowledge-base operation failed, e.g. inserting a passage whose id is taken."""


class Passage(Frozen):
    """One short passage of clinical knowledge.

    Attributes:
        id: Stable id, e.g. ``kb-dose-acetaminophen``.
        title: A short title.
        topic: What kind of fact it states.
        text: Two to five sentences.
        source: Citation of the facts (label, guideline and year).
        drugs: Generic names of the drugs it is about.
        origin: ``shipped`` with medsec, or ``inserted`` through the insider write API.
    """

    id: PassageId
    title: Text
    topic: Topic
    text: Text
    source: Text
    drugs: tuple[str, ...] = ()
    origin: Literal["shipped", "inserted"] = "shipped"

    @property
    def trusted(self) -> bool:
        """True for passages shipped with medsec, False for inserted ones."""
        return self.origin == "shipped"


class Hit(Frozen):
    """A retrieved passage and its score (higher is better; scales differ between retrievers)."""

    passage: Passage
    score: float


class Retriever(Protocol):
    """Ranks a fixed set of passages for a query."""

    def search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` best passages for ``query``, best first."""
        ...


RetrieverFactory = Callable[[Sequence[Passage]], Retriever]
"""Builds a retriever over passages; called again after inserts, so it may cache per passage id."""


class Bm25Retriever:
    """BM25 (k1=1.5, b=0.75) over title (counted twice), text and drug names.

    Args:
        passages: The passages to index.
    """

    def __init__(self, passages: Sequence[Passage]) -> None:
        self._passages = {p.id: p for p in passages}
        self._index = Bm25Index(k1=1.5, b=0.75)
        for p in passages:
            self._index.add(p.id, f"{p.title} {p.title} {p.text} {' '.join(p.drugs)}")

    def search(self, query: str, k: int) -> list[Hit]:
        """The ``k`` best passages for ``query``; passages sharing no term with it are left out."""
        return [Hit(passage=self._passages[key], score=score) for key, score in self._index.search(query, k)]


class _ShippedPassage(Frozen):
    id: PassageId
    title: Text
    text: Text
    source: Text
    drugs: tuple[str, ...] = ()


class _TopicFile(Frozen):
    topic: Topic
    passages: tuple[_ShippedPassage, ...] = Field(min_length=1)


class _OverlayFile(Frozen):
    passages: tuple[Passage, ...] = ()


def default_knowledge_dir() -> Path:
    """The passages shipped with medsec."""
    return Path(str(resources.files("medsec.clinic") / "data" / "knowledge"))


def load_passages(directory: str | Path | None = None) -> list[Passage]:
    """Read every ``*.yaml`` topic file of ``directory`` (the shipped corpus by default), in name order.

    Raises:
        ConfigError: When a file is invalid or two passages share an id.
    """
    base = Path(directory) if directory is not None else default_knowledge_dir()
    passages: list[Passage] = []
    for path in sorted(base.glob("*.yaml")):
        topic_file = load_config(_TopicFile, path)
        passages += [Passage(topic=topic_file.topic, **p.model_dump()) for p in topic_file.passages]
    if not passages:
        raise ConfigError(f"{base}: no knowledge passages found")
    seen: set[str] = set()
    for passage in passages:
        if passage.id in seen:
            raise ConfigError(f"{base}: passage id {passage.id} appears more than once")
        seen.add(passage.id)
    return passages


class KnowledgeBase:
    """Passages with retrieval and an insider write path. Safe to share between threads.

    Args:
        passages: The starting passages.
        overlay: Directory where inserted passages are persisted (``inserted.yaml``), if any.
        retriever: Builds the ranking; BM25 by default.
    """

    def __init__(
        self,
        passages: Sequence[Passage],
        *,
        overlay: Path | None = None,
        retriever: RetrieverFactory = Bm25Retriever,
    ) -> None:
        self._passages = {p.id: p for p in passages}
        self._overlay = overlay
        self._factory = retriever
        self._retriever: Retriever | None = None
        self._lock = threading.Lock()

    @classmethod
    def load(
        cls,
        path: str | Path | None = None,
        *,
        overlay: str | Path | None = None,
        retriever: RetrieverFactory = Bm25Retriever,
    ) -> KnowledgeBase:
        """Load the corpus in ``path`` (shipped by default) plus any passages inserted into ``overlay``.

        Raises:
            ConfigError: When a file is invalid.
            KnowledgeError: When an inserted passage reuses a shipped id.
        """
        overlay_dir = Path(overlay) if overlay is not None else None
        kb = cls(load_passages(path), overlay=overlay_dir, retriever=retriever)
        if overlay_dir is not None and (overlay_dir / OVERLAY_FILE).is_file():
            for passage in load_config(_OverlayFile, overlay_dir / OVERLAY_FILE).passages:
                kb._add(passage.model_copy(update={"origin": "inserted"}))
        return kb

    @property
    def passages(self) -> tuple[Passage, ...]:
        """Every passage, shipped first, then inserted ones in insertion order."""
        return tuple(self._passages.values())

    def __len__(self) -> int:
        return len(self._passages)

    def __contains__(self, passage_id: object) -> bool:
        return passage_id in self._passages

    def get(self, passage_id: str) -> Passage:
        """The passage with ``passage_id``.

        Raises:
            KnowledgeError: When there is none.
        """
        try:
            return self._passages[passage_id]
        except KeyError:
            raise KnowledgeError(f"no passage with id {passage_id!r}") from None

    def search(self, query: str, k: int = 3) -> list[Hit]:
        """The ``k`` passages that best match ``query``, best first."""
        with self._lock:
            if self._retriever is None:
                self._retriever = self._factory(self.passages)
            retriever = self._retriever
        return retriever.search(query, k)

    def fork(self, extra: Sequence[Passage]) -> KnowledgeBase:
        """A copy with ``extra`` passages added as inserted ones; this knowledge base is left untouched.

        The red team uses it to poison one session's corpus without touching other sessions.
        """
        planted = [p.model_copy(update={"origin": "inserted"}) for p in extra]
        return KnowledgeBase([*self.passages, *planted], retriever=self._factory)

    def insert(self, passage: Passage) -> str:
        """Insider write access: add a passage (marked ``inserted``, so untrusted) and return its id.

        Raises:
            KnowledgeError: When the id is already taken.
        """
        inserted = passage.model_copy(update={"origin": "inserted"})
        self._add(inserted)
        if self._overlay is not None:
            self._persist(self._overlay)
        return inserted.id

    def _add(self, passage: Passage) -> None:
        with self._lock:
            if passage.id in self._passages:
                raise KnowledgeError(f"a passage with id {passage.id!r} already exists")
            self._passages[passage.id] = passage
            self._retriever = None

    def _persist(self, overlay: Path) -> None:
        """Rewrite the overlay file with every inserted passage, atomically."""
        overlay.mkdir(parents=True, exist_ok=True)
        inserted = [p.model_dump(mode="json") for p in self.passages if p.origin == "inserted"]
        target = overlay / OVERLAY_FILE
        tmp = target.with_name(OVERLAY_FILE + ".tmp")
        tmp.write_text(yaml.safe_dump({"passages": inserted}, sort_keys=False, allow_unicode=True), "utf-8")
        os.replace(tmp, target)

    def digest(self) -> str:
        """SHA-256 of every passage in order; equal for two loads of the same corpus."""
        sha = hashlib.sha256()
        for passage in self.passages:
            sha.update(passage.model_dump_json().encode())
            sha.update(b"\n")
        return sha.hexdigest()
