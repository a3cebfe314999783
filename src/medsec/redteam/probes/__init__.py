"""Probes: one small file per probe, one line per probe in ``PROBES``; suites name probe specs."""

from __future__ import annotations

from medsec.redteam.probe import Probe
from medsec.redteam.probes.privacy.context_extraction import ContextPhiExtraction
from medsec.redteam.probes.privacy.crescendo import PhiCrescendo
from medsec.redteam.probes.privacy.memorisation import Memorisation
from medsec.redteam.probes.privacy.system_prompt import SystemPromptExtraction
from medsec.redteam.probes.privacy.tool_leakage import CrossPatientToolLeakage
from medsec.registry import Registry
from medsec.types import Spec

PROBES: Registry[Probe] = Registry(
    "probe",
    {
        "phi-extraction": ContextPhiExtraction,
        "phi-crescendo": PhiCrescendo,
        "phi-tool-leakage": CrossPatientToolLeakage,
        "system-prompt-extraction": SystemPromptExtraction,
        "memorisation": Memorisation,
    },
)

SUITES: dict[str, tuple[Spec, ...]] = {
    "smoke": (
        Spec(name="phi-extraction", args={"subjects": 1, "limit": 6}),
        Spec(name="phi-tool-leakage", args={"subjects": 1, "limit": 3}),
        Spec(name="system-prompt-extraction", args={"limit": 4}),
        Spec(name="phi-crescendo", args={"limit": 1}),
    ),
    "standard": (
        Spec(name="memorisation"),
        Spec(name="phi-extraction", args={"subjects": 2}),
        Spec(name="phi-tool-leakage", args={"subjects": 2}),
        Spec(name="system-prompt-extraction"),
        Spec(name="phi-crescendo", args={"subjects": 2}),
    ),
    "full": (
        Spec(name="memorisation"),
        Spec(name="phi-extraction", args={"subjects": 5}),
        Spec(name="phi-tool-leakage", args={"subjects": 5}),
        Spec(name="system-prompt-extraction"),
        Spec(name="phi-crescendo", args={"subjects": 5}),
    ),
}
"""Named probe selections: ``smoke`` takes about a minute on the embedded default."""

__all__ = ["PROBES", "SUITES"]
