"""The threat model of biomedical LLM systems, as validated data.

Four axes describe an attack: the security objectives it violates, the attacker capability it needs,
the lifecycle stage where the weakness enters and the stage where it is exploited. Defenses point at
the attacks they mitigate through the attacks' ``defenses`` lists (the single source of that mapping);
:meth:`Taxonomy.mitigated_by` derives the reverse view.
"""

from __future__ import annotations

from typing import Annotated, Literal

from pydantic import AfterValidator, Field, StringConstraints, computed_field

from medsec.types import Frozen

Id = Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9]*(-[a-z0-9]+)*$", max_length=64)]
"""Attack, defense, objective and stage ids: lowercase words joined by hyphens."""

CapabilityId = Annotated[str, StringConstraints(pattern=r"^A[0-9]$")]
AtlasId = Annotated[str, StringConstraints(pattern=r"^AML\.[TM]\d{4}(\.\d{3})?$")]
Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]

Confidence = Literal["verified", "secondary", "recalled"]
"""How a figure was checked: against the primary text, from a secondary summary, or from memory."""

DetectionMethod = Literal[
    "canary",  # planted values (PHI, secrets) that must not appear in the output
    "known-answer",  # a known wrong answer appears / the right one does not
    "tool-trace",  # a forbidden tool call appears in the trace
    "paired-delta",  # accuracy or answer change between paired original and perturbed inputs
    "refusal",  # whether the target complied or refused
    "judge",  # a model judge (optional, never the default)
    "metric",  # a measured quantity: tokens, latency, AUC
    "artifact-check",  # hashes, signatures or weight diffs outside the model's answers
]

Cost = Literal["none", "low", "medium", "high"]


def _unique(values: tuple[str, ...]) -> tuple[str, ...]:
    if len(set(values)) != len(values):
        raise ValueError("entries must be unique")
    return values


UniqueIds = Annotated[tuple[Id, ...], AfterValidator(_unique)]


class Objective(Frozen):
    """A security objective an attack can violate."""

    id: Id
    name: Text
    definition: Text


class Capability(Frozen):
    """One rung of the attacker-capability ladder (A0 weakest … A5)."""

    id: CapabilityId
    name: Text
    description: Text
    examples: tuple[Text, ...] = ()

    @computed_field  # type: ignore[prop-decorator]
    @property
    def level(self) -> int:
        """The rung's position on the ladder."""
        return int(self.id[1:])


class Stage(Frozen):
    """A lifecycle stage of a clinical LLM system."""

    id: Id
    name: Text
    description: Text
    order: int = Field(ge=0)


class Evidence(Frozen):
    """A published, measured result behind an attack or defense.

    Attributes:
        source: Authors and short title, e.g. ``"Alber et al., medical data poisoning"``.
        venue: Journal, conference or preprint server.
        year: Year of publication.
        finding: The measured number in one sentence.
        confidence: How the figure was checked (see :data:`Confidence`).
        url: Where to read it, when known.
    """

    source: Text
    venue: Text
    year: int = Field(ge=1990, le=2100)
    finding: Text
    confidence: Confidence
    url: str | None = None


class OwaspRef(Frozen):
    """A risk of the OWASP Top 10 for LLM Applications, by name and edition (numbers were reshuffled)."""

    edition: Literal["2025", "2026"]
    risk: Text


class Refs(Frozen):
    """Framework anchors: OWASP LLM Top 10 risks, MITRE ATLAS ids and HIPAA provisions."""

    owasp: tuple[OwaspRef, ...] = ()
    atlas: tuple[AtlasId, ...] = ()
    hipaa: tuple[Text, ...] = ()


class Detection(Frozen):
    """How a scanner can tell automatically that the attack succeeded."""

    methods: tuple[DetectionMethod, ...] = Field(min_length=1)
    how: Text


class Attack(Frozen):
    """One attack class of the taxonomy."""

    id: Id
    name: Text
    summary: Text
    objectives: UniqueIds = Field(min_length=1, description="First is the primary objective.")
    capability: CapabilityId = Field(description="The weakest attacker capability that suffices.")
    introduced: UniqueIds = Field(min_length=1, description="Stages where the weakness enters.")
    exploited: UniqueIds = Field(min_length=1, description="Stages where it is exploited.")
    detection: Detection
    evidence: tuple[Evidence, ...] = Field(min_length=1)
    defenses: UniqueIds = Field(min_length=1)
    refs: Refs


class DefenseCost(Frozen):
    """What a defense costs: added latency, lost utility, and a sentence on why."""

    latency: Cost
    utility: Cost
    notes: Text


class Defense(Frozen):
    """One defense class, with where it acts, what it costs and how well it is known to work."""

    id: Id
    name: Text
    summary: Text
    acts_at: UniqueIds = Field(min_length=1, description="Lifecycle stages where the defense acts.")
    cost: DefenseCost
    evidence: tuple[Evidence, ...] = Field(min_length=1)
    refs: Refs = Refs()


class Framework(Frozen):
    """The vocabularies that references are checked against."""

    owasp: dict[Literal["2025", "2026"], tuple[Text, ...]]
    atlas: dict[AtlasId, Text]
    hipaa: dict[Text, Text]


class Taxonomy(Frozen):
    """The whole, cross-referenced threat model. Build it with :func:`medsec.taxonomy.load_taxonomy`."""

    version: Text
    objectives: tuple[Objective, ...]
    capabilities: tuple[Capability, ...]
    stages: tuple[Stage, ...]
    attacks: tuple[Attack, ...]
    defenses: tuple[Defense, ...]
    frameworks: Framework

    def attack(self, attack_id: str) -> Attack | None:
        """Return the attack with this id, or None."""
        return next((a for a in self.attacks if a.id == attack_id), None)

    def defense(self, defense_id: str) -> Defense | None:
        """Return the defense with this id, or None."""
        return next((d for d in self.defenses if d.id == defense_id), None)

    def mitigated_by(self, defense_id: str) -> tuple[Attack, ...]:
        """Return the attacks that list ``defense_id`` among their defenses."""
        return tuple(a for a in self.attacks if defense_id in a.defenses)

    def capability_level(self, capability_id: str) -> int:
        """Return the ladder position of a capability id such as ``A2``."""
        return int(capability_id[1:])
