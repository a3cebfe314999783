"""The guard scanners and their registry, ``SCANNERS``: one small file per scanner, one line each here."""

from __future__ import annotations

from medsec.guard.scanner import GuardScanner
from medsec.guard.scanners.budget import BudgetScanner
from medsec.guard.scanners.dose import DoseScanner
from medsec.guard.scanners.grounding import GroundingScanner
from medsec.guard.scanners.harmful import HarmfulScanner
from medsec.guard.scanners.injection import InjectionScanner
from medsec.guard.scanners.phi import PhiScanner
from medsec.guard.scanners.poisoning import PoisoningScanner
from medsec.guard.scanners.provenance import ProvenanceScanner
from medsec.guard.scanners.spotlight import SpotlightScanner
from medsec.guard.scanners.tool_call import ToolCallScanner
from medsec.registry import Registry

SCANNERS: Registry[GuardScanner] = Registry(
    "guard scanner",
    {
        "phi": PhiScanner,
        "injection": InjectionScanner,
        "harmful": HarmfulScanner,
        "provenance": ProvenanceScanner,
        "poisoning": PoisoningScanner,
        "spotlight": SpotlightScanner,
        "dose": DoseScanner,
        "grounding": GroundingScanner,
        "tool-call": ToolCallScanner,
        "budget": BudgetScanner,
    },
)

__all__ = [
    "SCANNERS",
    "BudgetScanner",
    "DoseScanner",
    "GroundingScanner",
    "HarmfulScanner",
    "InjectionScanner",
    "PhiScanner",
    "PoisoningScanner",
    "ProvenanceScanner",
    "SpotlightScanner",
    "ToolCallScanner",
]
