"""Masking PHI in report text with the PHI engine: what reports show unless ``--show-phi``."""

from __future__ import annotations


def mask(text: str) -> str:
    """Replace every identifier the PHI engine finds with its type in brackets (``[NAME]``)."""
    from medsec.phi import Mode, deidentify

    return deidentify(text, mode=Mode.REDACT).text
