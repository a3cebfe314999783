"""Reversible pseudonymisation: keyed, consistent tokens for identifiers, restorable for the authorised.

A :class:`Vault` turns a value into ``[TYPE_0123abcd]``, where the hex is an HMAC-SHA256 of the type and
value under the vault's key: the same value gets the same token for as long as the key is kept, and
nobody without the key can link tokens to values. The clear values live only in the vault's memory;
they are written out only when :meth:`Vault.export` is called on purpose.
"""

from __future__ import annotations

import hashlib
import hmac
import re
import secrets

from medsec.errors import MedsecError
from medsec.phi.model import PhiType

TOKEN = re.compile(r"\[([A-Z_]+)_([0-9a-f]{10})\]")
"""What a vault token looks like in text."""


class Vault:
    """Keyed pseudonyms with an in-memory table for restoring them.

    Args:
        key: Secret key of at least 16 bytes; a random one is made when omitted (tokens then hold for
            this vault's life only).
    """

    def __init__(self, key: bytes | None = None) -> None:
        key = secrets.token_bytes(32) if key is None else key
        if len(key) < 16:
            raise MedsecError("a vault key must be at least 16 bytes")
        self._key = key
        self._clear: dict[str, str] = {}

    def digest(self, kind: PhiType | str, value: str, size: int = 10) -> str:
        """Hex HMAC of ``kind`` and ``value`` under the key (also the seed of consistent surrogates)."""
        mac = hmac.new(self._key, f"{kind}\x1f{value}".encode(), hashlib.sha256)
        return mac.hexdigest()[:size]

    def token(self, kind: PhiType, value: str) -> str:
        """Return the pseudonym of ``value`` and remember the value for :meth:`restore`."""
        token = f"[{kind.value}_{self.digest(kind, value)}]"
        self._clear[token] = value
        return token

    def restore(self, text: str) -> str:
        """Put the clear values back for every token this vault issued; unknown tokens stay."""
        return TOKEN.sub(lambda m: self._clear.get(m.group(0), m.group(0)), text)

    def __len__(self) -> int:
        return len(self._clear)

    def __repr__(self) -> str:
        return f"Vault({len(self._clear)} values)"  # never the key, never a value

    def export(self) -> dict[str, str]:
        """Token → clear value, for an authorised caller that decided to persist them."""
        return dict(self._clear)
