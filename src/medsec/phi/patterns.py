"""Candidates proposed by the rules, and the checksums a rule may require of its match."""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

from medsec.phi.model import PhiType


class Candidate(NamedTuple):
    """A span proposed by one rule, on the normalised text, before overlaps are resolved."""

    start: int
    end: int
    type: PhiType
    score: float


def _digits(value: str) -> str:
    return "".join(c for c in value if c.isdigit())


def luhn(value: str) -> bool:
    """Whether the digits of ``value`` pass the Luhn checksum (credit cards, NPIs)."""
    digits = _digits(value)
    if len(digits) < 12:
        return False
    total = 0
    for i, ch in enumerate(reversed(digits)):
        d = int(ch) * (2 if i % 2 else 1)
        total += d - 9 if d > 9 else d
    return total % 10 == 0


def npi(value: str) -> bool:
    """Whether ``value`` is a valid 10-digit National Provider Identifier (Luhn with prefix 80840)."""
    return luhn("80840" + _digits(value))


def dea(value: str) -> bool:
    """Whether ``value`` is a DEA registration number with a valid check digit."""
    d = [int(c) for c in value[2:]]
    return len(d) == 7 and (d[0] + d[2] + d[4] + 2 * (d[1] + d[3] + d[5])) % 10 == d[6]


def ssn(value: str) -> bool:
    """Whether ``value`` could be an issued SSN (area not 000, 666 or 9xx; group and serial not 0)."""
    d = _digits(value)
    return len(d) == 9 and d[:3] not in ("000", "666") and d[0] != "9" and d[3:5] != "00" and d[5:] != "0000"


def vin(value: str) -> bool:
    """Whether ``value`` looks like a VIN: 17 characters with letters and digits mixed."""
    return sum(c.isdigit() for c in value) >= 5 and sum(c.isalpha() for c in value) >= 3


VALIDATORS: dict[str, Callable[[str], bool]] = {"luhn": luhn, "npi": npi, "dea": dea, "ssn": ssn, "vin": vin}
"""Checksums a rule may name in its ``validate`` field."""
