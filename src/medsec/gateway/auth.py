"""Who is asking: bearer API keys, stored only as SHA-256 hashes, mapped to principals.

API keys are long random strings (``new_key``), so one unsalted SHA-256 is enough to keep a leaked keys
file from revealing them; the lookup compares digests in constant time.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from collections.abc import Iterable, Mapping

from medsec.errors import ConfigError
from medsec.gateway.config import KeyEntry, RateConfig
from medsec.types import Frozen


class Principal(Frozen):
    """The authenticated caller of one request.

    Attributes:
        id: The key's principal id (what audit records name).
        role: The principal's role, passed to the guard.
        patients: MRNs the principal is authorised for.
        restore: Whether pseudonyms in answers are restored for this principal.
        rate: The principal's rate limit (None: the gateway's default).
    """

    id: str
    role: str
    patients: tuple[str, ...] = ()
    restore: bool = True
    rate: RateConfig | None = None


def hash_key(key: str) -> str:
    """The hex SHA-256 of an API key, as a keys file stores it."""
    return hashlib.sha256(key.encode()).hexdigest()


def new_key() -> str:
    """A new random API key (``msk-`` and 43 URL-safe characters)."""
    return "msk-" + secrets.token_urlsafe(32)


def bearer(headers: Mapping[str, str]) -> str | None:
    """The key of an ``Authorization: Bearer …`` header (or ``api-key``), None when absent."""
    value = headers.get("authorization") or ""
    scheme, _, token = value.partition(" ")
    if scheme.lower() == "bearer" and token.strip():
        return token.strip()
    return headers.get("api-key") or None


class KeyRing:
    """Hashed keys → principals.

    Args:
        entries: The configured keys.
        anonymous: The principal of requests without a key (None: such requests are refused).

    Raises:
        ConfigError: When two entries share a hash or a principal id.
    """

    def __init__(self, entries: Iterable[KeyEntry], anonymous: Principal | None = None) -> None:
        self._by_hash: dict[bytes, Principal] = {}
        ids: set[str] = set()
        for e in entries:
            digest = bytes.fromhex(e.sha256)
            if digest in self._by_hash or e.id in ids:
                raise ConfigError(f"keys: duplicate key or principal id {e.id!r}")
            ids.add(e.id)
            self._by_hash[digest] = Principal(
                id=e.id, role=e.role, patients=e.patients, restore=e.restore, rate=e.rate
            )
        self.anonymous = anonymous

    def __len__(self) -> int:
        return len(self._by_hash)

    def authenticate(self, key: str | None) -> Principal | None:
        """The principal of ``key``; the anonymous one when there is no key and that is allowed."""
        if key is None:
            return self.anonymous
        digest = hashlib.sha256(key.encode()).digest()
        found = None
        for stored, principal in self._by_hash.items():  # no early exit: timing says nothing
            if hmac.compare_digest(stored, digest):
                found = principal
        return found
