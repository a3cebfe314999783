"""Probes: one small file per probe, one line per probe in ``PROBES``; suites name probe specs."""

from __future__ import annotations

from medsec.redteam.probe import Probe
from medsec.redteam.probes.integrity.injection_documents import DocumentInjection
from medsec.redteam.probes.integrity.injection_notes import NoteInjection
from medsec.redteam.probes.integrity.injection_tools import ToolOutputInjection
from medsec.redteam.probes.integrity.poisonedrag import PoisonedRagDataset
from medsec.redteam.probes.integrity.poisoning import RetrievalPoisoning
from medsec.redteam.probes.integrity.pushback import MultiTurnPushback
from medsec.redteam.probes.integrity.sycophancy import IllogicalDrugRequest
from medsec.redteam.probes.privacy.context_extraction import ContextPhiExtraction
from medsec.redteam.probes.privacy.crescendo import PhiCrescendo
from medsec.redteam.probes.privacy.memorisation import Memorisation
from medsec.redteam.probes.privacy.system_prompt import SystemPromptExtraction
from medsec.redteam.probes.privacy.tool_leakage import CrossPatientToolLeakage
from medsec.redteam.probes.reliability.exhaustion import ResourceExhaustion
from medsec.redteam.probes.reliability.fabrication import PlantedFakeDetails
from medsec.redteam.probes.reliability.perturbation import PerturbationConsistency
from medsec.redteam.probes.safety.dataset import HarmfulDataset
from medsec.redteam.probes.safety.harmful import HarmfulRequests
from medsec.redteam.probes.safety.jailbreak import Jailbreak
from medsec.redteam.probes.safety.over_refusal import OverRefusal
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
        "rag-poisoning": RetrievalPoisoning,
        "poisonedrag": PoisonedRagDataset,
        "injection-notes": NoteInjection,
        "injection-documents": DocumentInjection,
        "injection-tools": ToolOutputInjection,
        "sycophancy": IllogicalDrugRequest,
        "pushback": MultiTurnPushback,
        "perturbation": PerturbationConsistency,
        "fake-details": PlantedFakeDetails,
        "exhaustion": ResourceExhaustion,
        "harmful-requests": HarmfulRequests,
        "over-refusal": OverRefusal,
        "jailbreak": Jailbreak,
        "harmful-dataset": HarmfulDataset,
    },
)

SUITES: dict[str, tuple[Spec, ...]] = {
    "smoke": (
        Spec(name="phi-extraction", args={"subjects": 1, "limit": 6}),
        Spec(name="phi-tool-leakage", args={"subjects": 1, "limit": 3}),
        Spec(name="system-prompt-extraction", args={"limit": 4}),
        Spec(name="phi-crescendo", args={"limit": 1}),
    ),
    # the smoke suite stays privacy-only so `make demo` takes about a minute; integrity, reliability and
    # safety run in `standard` and `full`
    "standard": (
        Spec(name="memorisation"),
        Spec(name="phi-extraction", args={"subjects": 2}),
        Spec(name="phi-tool-leakage", args={"subjects": 2}),
        Spec(name="system-prompt-extraction"),
        Spec(name="phi-crescendo", args={"subjects": 2}),
        Spec(name="rag-poisoning", args={"drugs": 3, "styles": ["restate", "guideline"], "counts": [1, 5]}),
        Spec(name="injection-notes", args={"carriers": ["portal", "nursing"], "wrappers": ["system-tag"]}),
        Spec(name="injection-documents", args={"drugs": 1, "wrappers": ["plain"]}),
        Spec(name="injection-tools", args={"wrappers": ["system-tag"]}),
        Spec(name="sycophancy", args={"pairs": 10, "templates": ["memo"]}),
        Spec(name="pushback", args={"questions": 5, "pressures": ["authority", "citation"]}),
        Spec(name="perturbation", args={"drugs": 4, "perturbations": ["brand", "typo"]}),
        Spec(name="fake-details", args={"limit": 8}),
        Spec(name="exhaustion", args={"decoy": True}),
        Spec(name="harmful-requests", args={"limit": 27}),
        Spec(name="over-refusal"),
        Spec(name="jailbreak", args={"intents": 3}),
    ),
    "full": (
        Spec(name="memorisation"),
        Spec(name="phi-extraction", args={"subjects": 5}),
        Spec(name="phi-tool-leakage", args={"subjects": 5}),
        Spec(name="system-prompt-extraction"),
        Spec(name="phi-crescendo", args={"subjects": 5}),
        Spec(name="rag-poisoning", args={"drugs": 10}),
        Spec(name="injection-notes"),
        Spec(name="injection-documents"),
        Spec(name="injection-tools"),
        Spec(name="sycophancy"),
        Spec(name="pushback"),
        Spec(name="perturbation"),
        Spec(name="fake-details"),
        Spec(name="exhaustion", args={"decoy": True}),
        Spec(name="harmful-requests"),
        Spec(name="over-refusal"),
        Spec(name="jailbreak", args={"intents": 9}),
    ),
}
"""Named probe selections: ``smoke`` takes about a minute on the embedded default."""

__all__ = ["PROBES", "SUITES"]
