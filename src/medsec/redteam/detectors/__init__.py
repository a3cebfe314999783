"""Detectors: deterministic judges of attempts. ``DETECTORS`` is the registry."""

from __future__ import annotations

from medsec.redteam.detector import Detector
from medsec.redteam.detectors.answer import KnownAnswer
from medsec.redteam.detectors.canary import CanaryLeak
from medsec.redteam.detectors.refusal import Refusal
from medsec.redteam.detectors.tooltrace import ToolTrace
from medsec.registry import Registry

DETECTORS: Registry[Detector] = Registry(
    "detector",
    {
        "canary": CanaryLeak,
        "refusal": Refusal,
        "tool-trace": ToolTrace,
        "known-answer": KnownAnswer,
    },
)

__all__ = ["DETECTORS", "CanaryLeak", "KnownAnswer", "Refusal", "ToolTrace"]
