"""The values the PHI engine hands out: span types, spans and de-identification results.

Spans carry offsets, a type and a score, never the text they cover, so that a repr, a log line or a
stored record of a span cannot leak the identifier itself.
"""

from __future__ import annotations

from enum import StrEnum

from pydantic import Field, model_validator

from medsec.types import Frozen


class PhiType(StrEnum):
    """The kinds of identifier the engine finds, one or more per HIPAA Safe Harbor category."""

    NAME = "NAME"
    ADDRESS = "ADDRESS"
    LOCATION = "LOCATION"
    ZIP = "ZIP"
    FACILITY = "FACILITY"
    EMPLOYER = "EMPLOYER"
    DATE = "DATE"
    AGE = "AGE"
    PHONE = "PHONE"
    FAX = "FAX"
    EMAIL = "EMAIL"
    SSN = "SSN"
    MRN = "MRN"
    HEALTH_PLAN = "HEALTH_PLAN"
    ACCOUNT = "ACCOUNT"
    LICENSE = "LICENSE"
    VEHICLE = "VEHICLE"
    DEVICE = "DEVICE"
    URL = "URL"
    IP = "IP"
    BIOMETRIC = "BIOMETRIC"
    ID = "ID"


class Mode(StrEnum):
    """What :func:`medsec.phi.deidentify` does with each span.

    ``redact`` writes ``[TYPE]``; ``mask`` overwrites letters and digits with ``*``; ``surrogate``
    writes consistent realistic fakes (dates shifted, ages over 89 as ``90+``, ZIPs cut to three
    digits); ``pseudonym`` writes reversible vault tokens; ``annotate`` keeps the text and marks it.
    """

    REDACT = "redact"
    MASK = "mask"
    SURROGATE = "surrogate"
    PSEUDONYM = "pseudonym"
    ANNOTATE = "annotate"


class PhiSpan(Frozen):
    """One identifier found in a text: where it is, what it is, how sure the engine is.

    Attributes:
        start: Offset of its first character in the text given to ``detect``.
        end: Offset one past its last character.
        type: The kind of identifier.
        score: Confidence in [0, 1].
    """

    start: int = Field(ge=0)
    end: int = Field(ge=0)
    type: PhiType
    score: float = Field(ge=0.0, le=1.0)

    @model_validator(mode="after")
    def _not_empty(self) -> PhiSpan:
        if self.end <= self.start:
            raise ValueError("a span must cover at least one character")
        return self


class DeidResult(Frozen):
    """A de-identified text with the spans found in the input it came from.

    Attributes:
        text: The transformed text.
        spans: Spans with offsets into the *input* text, sorted and non-overlapping.
        mode: The transformation that was applied.
    """

    text: str
    spans: tuple[PhiSpan, ...] = ()
    mode: Mode = Mode.REDACT
