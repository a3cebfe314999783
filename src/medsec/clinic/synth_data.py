"""The data the EHR generator draws from, read from ``data/synth/*.yaml`` and validated.

Keeping the pools and templates in YAML keeps the generator small and lets a reviewer read every word
that can appear in a synthetic chart.
"""

from __future__ import annotations

import datetime as dt
import string
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Annotated

from pydantic import Field, StringConstraints, model_validator

from medsec.clinic.records import NoteKind, Sex
from medsec.config import load_config
from medsec.types import Frozen

Name = Annotated[str, StringConstraints(min_length=1, max_length=60)]
Band = tuple[float, float]

NOTE_FIELDS = frozenset(
    [
        "name",
        "first",
        "last",
        "age",
        "sex",
        "sex_word",
        "dob",
        "dob_us",
        "mrn",
        "address",
        "city",
        "state",
        "zip",
        "phone",
        "email",
        "ssn",
        "payer",
        "member_id",
        "nok_name",
        "nok_relation",
        "nok_phone",
        "unit",
        "room",
        "attending",
        "admit_date",
        "reason",
        "primary",
        "history",
        "allergies",
        "meds",
        "labs",
        "creatinine",
        "egfr",
        "renal_comment",
        "day",
        "feeling",
        "trajectory",
        "author",
        "prior_start",
        "prior_end",
        "prior_attending",
        "prior_reason",
        "followup_days",
        "portal_topic",
        "home_meds",
        "doctor",
    ]
)
"""The fields a note template may use."""


class City(Frozen):
    """A fictional city with a real state code and the first three digits of its ZIP codes."""

    name: Name
    state: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    zip3: Annotated[str, StringConstraints(pattern=r"^\d{3}$")]


class Payer(Frozen):
    """A fictional insurer and the prefix of its member ids."""

    name: Name
    prefix: Annotated[str, StringConstraints(pattern=r"^[A-Z]{3}$")]


class IdentityPools(Frozen):
    """Name, street, city and number pools for synthetic identities."""

    female_first: tuple[Name, ...] = Field(min_length=10)
    male_first: tuple[Name, ...] = Field(min_length=10)
    surname_head: tuple[Name, ...] = Field(min_length=5)
    surname_tail: tuple[Name, ...] = Field(min_length=5)
    street_head: tuple[Name, ...] = Field(min_length=5)
    street_tail: tuple[Name, ...] = Field(min_length=2)
    cities: tuple[City, ...] = Field(min_length=1)
    area_codes: tuple[Annotated[str, StringConstraints(pattern=r"^[2-9]\d{2}$")], ...] = Field(min_length=1)
    email_domains: tuple[Annotated[str, StringConstraints(pattern=r"^example\.(org|com|net)$")], ...]
    payers: tuple[Payer, ...] = Field(min_length=1)
    nok_relations: tuple[Name, ...] = Field(min_length=1)


class UnitDef(Frozen):
    """A unit, how often patients are placed there, and the acute conditions it admits."""

    id: Annotated[str, StringConstraints(pattern=r"^[A-Z0-9]{2,5}$")]
    name: Name
    weight: float = Field(gt=0)
    acute: tuple[str, ...] = Field(min_length=1)


class StaffDef(Frozen):
    """How many clinicians of one role each unit has."""

    role: str
    credentials: str
    per_unit: int = Field(ge=1)


class LabDef(Frozen):
    """A lab test: unit, reference range, the range healthy values are drawn from, and rounding."""

    id: Name
    unit: str
    low: float
    high: float
    normal: Band
    decimals: int = Field(ge=0, le=3)


class AllergyDef(Frozen):
    """An allergen, the reactions it may have caused, and the drugs it rules out."""

    substance: Name
    reactions: tuple[str, ...] = Field(min_length=1)
    weight: float = Field(gt=0)
    avoid: tuple[str, ...] = ()


class MedOption(Frozen):
    """One way to treat a condition, usable when the patient's eGFR is at least ``min_egfr``."""

    drug: Name
    dose: Annotated[str, StringConstraints(pattern=r"^\d+(\.\d+)? \S.*$")]
    route: str
    frequency: str
    prn: bool = False
    min_egfr: float = 0.0
    not_with: tuple[str, ...] = ()

    @property
    def amount(self) -> float:
        """The number in the dose."""
        return float(self.dose.split(" ", 1)[0])

    @property
    def unit(self) -> str:
        """The unit of the dose, e.g. ``mg`` or ``units/kg/hour``."""
        return self.dose.split(" ", 1)[1]


class ChronicDef(Frozen):
    """Marks a condition as a comorbidity: at most one per group, drawn with this weight."""

    group: str
    weight: float = Field(gt=0)


class ProblemDef(Frozen):
    """An extra problem-list entry that comes with a condition."""

    code: str
    name: Name


class ConditionDef(Frozen):
    """A condition: its code, the labs it moves, and its medications (each a list of options)."""

    id: str
    code: Annotated[str, StringConstraints(pattern=r"^[A-Z]\d[0-9A-Z](\.[0-9A-Z]{1,4})?$")]
    name: str
    reason: str | None = None
    group: str | None = None
    sex: Sex | None = None
    chronic: ChronicDef | None = None
    labs: dict[str, Band] = Field(default_factory=dict)
    meds: tuple[tuple[MedOption, ...], ...] = ()
    extra_problems: tuple[ProblemDef, ...] = ()


class ClinicalData(Frozen):
    """Units, staff, labs, allergies and conditions of the synthetic hospital."""

    as_of: dt.date
    units: tuple[UnitDef, ...] = Field(min_length=1)
    staff: tuple[StaffDef, ...] = Field(min_length=1)
    labs: tuple[LabDef, ...]
    base_panel: tuple[str, ...]
    allergies: tuple[AllergyDef, ...]
    conditions: tuple[ConditionDef, ...]

    @model_validator(mode="after")
    def _cross_references(self) -> ClinicalData:
        labs = {lab.id for lab in self.labs}
        conditions = {c.id: c for c in self.conditions}
        if not {"creatinine", *self.base_panel} <= labs:
            raise ValueError("base_panel names a lab that is not defined (creatinine is required)")
        for unit in self.units:
            for cid in unit.acute:
                if cid not in conditions or conditions[cid].reason is None:
                    raise ValueError(f"unit {unit.id}: {cid!r} is not an acute condition with a reason")
        for cond in self.conditions:
            if not set(cond.labs) <= labs:
                raise ValueError(f"condition {cond.id}: labs name an undefined test")
        return self

    def condition(self, cid: str) -> ConditionDef:
        """The condition with id ``cid``."""
        return next(c for c in self.conditions if c.id == cid)


class NoteTemplates(Frozen):
    """Note templates by kind, the identifier fields each kind must carry, and filler phrases."""

    requires: dict[NoteKind, tuple[str, ...]]
    templates: dict[NoteKind, tuple[str, ...]]
    feelings: tuple[str, ...] = Field(min_length=1)
    trajectories: tuple[str, ...] = Field(min_length=1)
    portal_topics: tuple[str, ...] = Field(min_length=1)
    renal_comments: dict[str, str]

    @model_validator(mode="after")
    def _fields_known_and_required(self) -> NoteTemplates:
        for kind, texts in self.templates.items():
            for i, text in enumerate(texts):
                used = {field for _, field, _, _ in string.Formatter().parse(text) if field}
                if unknown := sorted(used - NOTE_FIELDS):
                    raise ValueError(f"templates.{kind}[{i}] uses unknown fields {unknown}")
                if missing := sorted(set(self.requires.get(kind, ())) - used):
                    raise ValueError(f"templates.{kind}[{i}] lacks required fields {missing}")
        if set(self.renal_comments) != {"severe", "moderate", "normal"}:
            raise ValueError("renal_comments needs exactly: severe, moderate, normal")
        return self


def default_synth_dir() -> Path:
    """The pools and templates shipped with medsec."""
    return Path(str(resources.files("medsec.clinic") / "data" / "synth"))


@dataclass(frozen=True)
class SynthData:
    """Everything the generator reads."""

    identity: IdentityPools
    clinical: ClinicalData
    notes: NoteTemplates

    @classmethod
    def load(cls, directory: str | Path | None = None) -> SynthData:
        """Read ``identity.yaml``, ``clinical.yaml`` and ``notes.yaml`` (the shipped ones by default).

        Raises:
            ConfigError: When a file is missing or invalid.
        """
        base = (
            Path(directory) if directory else Path(str(resources.files("medsec.clinic") / "data" / "synth"))
        )
        return cls(
            identity=load_config(IdentityPools, base / "identity.yaml"),
            clinical=load_config(ClinicalData, base / "clinical.yaml"),
            notes=load_config(NoteTemplates, base / "notes.yaml"),
        )
