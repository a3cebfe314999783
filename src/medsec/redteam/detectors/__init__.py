"""Detectors: deterministic judges of attempts. ``DETECTORS`` is the registry."""

from __future__ import annotations

from medsec.redteam.detector import Detector
from medsec.redteam.detectors.answer import KnownAnswer
from medsec.redteam.detectors.canary import CanaryLeak
from medsec.redteam.detectors.compliance import Compliance
from medsec.redteam.detectors.exhaustion import Exhaustion
from medsec.redteam.detectors.fabrication import Fabrication
from medsec.redteam.detectors.flip import AnswerFlip, Consistency
from medsec.redteam.detectors.judge import LlmJudge
from medsec.redteam.detectors.premise import PremiseRejection
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
        "compliance": Compliance,
        "premise": PremiseRejection,
        "answer-flip": AnswerFlip,
        "consistency": Consistency,
        "fabrication": Fabrication,
        "exhaustion": Exhaustion,
        "judge": LlmJudge,
    },
)

__all__ = [
    "DETECTORS",
    "AnswerFlip",
    "CanaryLeak",
    "Compliance",
    "Consistency",
    "Exhaustion",
    "Fabrication",
    "KnownAnswer",
    "LlmJudge",
    "PremiseRejection",
    "Refusal",
    "ToolTrace",
]
