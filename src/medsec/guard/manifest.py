"""A signed manifest of corpus documents: HMAC-SHA256 over each document's content hash.

The manifest maps document ids to SHA-256 content hashes and carries one HMAC over its canonical JSON
form, made with a key held in the environment (never in the file). A passage is *signed* when its id is
in a manifest whose HMAC verifies and its text hashes to the recorded value.
"""

from __future__ import annotations

import hashlib
import hmac
import json
from collections.abc import Iterable, Mapping
from functools import lru_cache
from pathlib import Path

from medsec.config import secret_from_env
from medsec.errors import ConfigError
from medsec.types import Frozen

DEFAULT_KEY_ENV = "MEDSEC_MANIFEST_KEY"


def content_hash(text: str) -> str:
    """SHA-256 of a document's text, whitespace-normalised (so re-wrapping does not break a signature)."""
    return hashlib.sha256(" ".join(text.split()).encode()).hexdigest()


def _mac(key: bytes, documents: Mapping[str, str]) -> str:
    body = json.dumps(dict(sorted(documents.items())), separators=(",", ":")).encode()
    return hmac.new(key, body, hashlib.sha256).hexdigest()


class Manifest(Frozen):
    """Document id → content hash, and the HMAC that vouches for the whole map."""

    version: int = 1
    documents: dict[str, str]
    hmac: str

    @classmethod
    def sign(cls, docs: Iterable[tuple[str, str]], key: bytes) -> Manifest:
        """Build and sign a manifest from ``(id, text)`` pairs."""
        documents = {doc_id: content_hash(text) for doc_id, text in docs}
        return cls(documents=documents, hmac=_mac(key, documents))

    def verifies(self, key: bytes) -> bool:
        """Whether the HMAC matches the documents under ``key`` (constant-time comparison)."""
        return hmac.compare_digest(self.hmac, _mac(key, self.documents))

    def status(self, doc_id: str | None, text: str) -> str:
        """``signed``, ``unsigned`` (no such id) or ``altered`` (the text's hash differs)."""
        if doc_id is None or doc_id not in self.documents:
            return "unsigned"
        return "signed" if hmac.compare_digest(self.documents[doc_id], content_hash(text)) else "altered"


@lru_cache(maxsize=8)
def load_manifest(path: str, key_env: str = DEFAULT_KEY_ENV) -> Manifest:
    """Read a manifest file and check its HMAC with the key in ``$key_env``.

    Raises:
        ConfigError: When the file is missing or invalid, the key unset, or the HMAC does not verify.
    """
    try:
        manifest = Manifest.model_validate_json(Path(path).read_text(encoding="utf-8"))
    except OSError:
        raise ConfigError(f"{path}: cannot read the manifest") from None
    except ValueError:
        raise ConfigError(f"{path}: not a medsec manifest (documents, hmac)") from None
    if not manifest.verifies(secret_from_env(key_env).encode()):
        raise ConfigError(f"{path}: the manifest's HMAC does not verify under ${key_env}; re-sign it")
    return manifest
