"""The records of the synthetic EHR: patients, their clinical facts, notes, clinicians and units.

Every model is frozen. A :class:`Patient` carries its problems, medications, allergies, labs and
encounters; notes are read separately (they are long). All people, places and numbers are synthetic.
"""

from __future__ import annotations

import datetime as dt
from typing import Literal

from pydantic import Field

from medsec.errors import MedsecError
from medsec.types import Frozen

Sex = Literal["F", "M"]
NoteKind = Literal["admission", "progress", "nursing", "discharge", "portal"]
EncounterKind = Literal["inpatient", "emergency", "outpatient"]
Origin = Literal["chart", "inserted"]
"""Where a note came from: the generated chart, or the insider write API (ground truth for evaluation)."""

CanaryKind = Literal[
    "name", "dob", "address", "zip", "phone", "email", "ssn", "mrn", "member_id", "nok_name", "nok_phone"
]
"""The identifier kinds that are unique across patients and so double as canaries."""

CANARY_KINDS: tuple[CanaryKind, ...] = (
    "name",
    "dob",
    "address",
    "zip",
    "phone",
    "email",
    "ssn",
    "mrn",
    "member_id",
    "nok_name",
    "nok_phone",
)


class EhrError(MedsecError):
    """The EHR database is missing, malformed, or was asked to do something it cannot."""


class RecordNotFoundError(EhrError, LookupError):
    """No record has the requested key (the message never repeats the key, which may be PHI)."""


class Unit(Frozen):
    """A hospital unit, e.g. ``4W`` / 4 West Medicine."""

    id: str
    name: str


class Clinician(Frozen):
    """A member of staff who writes notes or attends patients."""

    id: str
    name: str
    role: Literal["attending", "resident", "nurse", "pharmacist", "nurse practitioner"]
    credentials: str
    unit: str


class Problem(Frozen):
    """A problem-list entry with an ICD-10-CM-like code."""

    code: str
    name: str
    status: Literal["active", "chronic", "resolved"]
    onset: dt.date


class Medication(Frozen):
    """An active medication order."""

    drug: str
    amount: float = Field(gt=0)
    unit: str
    route: str
    frequency: str
    indication: str
    prn: bool = False

    @property
    def dose(self) -> str:
        """The dose as written, e.g. ``500 mg``."""
        return f"{self.amount:g} {self.unit}"

    def line(self) -> str:
        """One line for a medication list, e.g. ``metformin 500 mg PO twice daily (diabetes)``."""
        prn = " as needed" if self.prn else ""
        return f"{self.drug} {self.dose} {self.route} {self.frequency}{prn} ({self.indication})"


class Allergy(Frozen):
    """An allergy or intolerance with the reaction it caused."""

    substance: str
    reaction: str
    severity: Literal["mild", "moderate", "severe"]


class Lab(Frozen):
    """One lab result with its unit and reference range."""

    test: str
    value: float
    unit: str
    ref_low: float | None = None
    ref_high: float | None = None
    collected: dt.date

    @property
    def flag(self) -> Literal["H", "L", ""]:
        """``H`` above the reference range, ``L`` below it, empty inside it."""
        if self.ref_high is not None and self.value > self.ref_high:
            return "H"
        if self.ref_low is not None and self.value < self.ref_low:
            return "L"
        return ""

    def line(self) -> str:
        """One line for a lab list, e.g. ``creatinine 1.42 mg/dL (H; ref 0.60-1.20)``."""
        low = "" if self.ref_low is None else f"{self.ref_low:g}"
        high = "" if self.ref_high is None else f"{self.ref_high:g}"
        ref = f"ref {low}-{high}" if high else f"ref >{low}"
        flag = f"{self.flag}; " if self.flag else ""
        return f"{self.test} {self.value:g} {self.unit} ({flag}{ref})"


class Encounter(Frozen):
    """A visit or admission; ``unit`` is the name of the unit or clinic, ``end`` is None while open."""

    id: str
    kind: EncounterKind
    unit: str
    start: dt.date
    end: dt.date | None = None
    attending: str
    reason: str


class Note(Frozen):
    """A free-text chart note.

    Attributes:
        origin: ``chart`` for generated notes, ``inserted`` for notes added through
            :meth:`medsec.clinic.ehr.Ehr.append_note`; ground truth for evaluating provenance checks,
            not something a real EHR would show.
    """

    id: int
    mrn: str
    kind: NoteKind
    author: str
    written_at: dt.datetime
    text: str
    origin: Origin = "chart"


class Patient(Frozen):
    """A synthetic patient with every identifier kind and their clinical record."""

    mrn: str
    first_name: str
    last_name: str
    sex: Sex
    dob: dt.date
    address: str
    city: str
    state: str
    zip: str
    phone: str
    email: str
    ssn: str
    payer: str
    member_id: str
    nok_name: str
    nok_relation: str
    nok_phone: str
    unit: str
    room: str
    attending: str
    weight_kg: float
    height_cm: float
    problems: tuple[Problem, ...] = ()
    medications: tuple[Medication, ...] = ()
    allergies: tuple[Allergy, ...] = ()
    labs: tuple[Lab, ...] = ()
    encounters: tuple[Encounter, ...] = ()

    @property
    def name(self) -> str:
        """First and last name."""
        return f"{self.first_name} {self.last_name}"

    def age(self, on: dt.date) -> int:
        """Age in whole years on the date ``on``."""
        before_birthday = (on.month, on.day) < (self.dob.month, self.dob.day)
        return on.year - self.dob.year - int(before_birthday)

    def canaries(self) -> dict[CanaryKind, str]:
        """Every unique identifier of the patient, by kind, as it is written in the chart."""
        return {
            "name": self.name,
            "dob": self.dob.isoformat(),
            "address": self.address,
            "zip": self.zip,
            "phone": self.phone,
            "email": self.email,
            "ssn": self.ssn,
            "mrn": self.mrn,
            "member_id": self.member_id,
            "nok_name": self.nok_name,
            "nok_phone": self.nok_phone,
        }

    def lab(self, test: str) -> Lab | None:
        """The most recent result of ``test``, if any."""
        found = [lab for lab in self.labs if lab.test == test]
        return max(found, key=lambda lab: lab.collected) if found else None


class Leak(Frozen):
    """Where a patient's identifier appears in a text. Holds no identifier value, only its kind.

    Attributes:
        mrn: The patient whose identifier leaked.
        kind: Which identifier.
        start: Offset of the first character of the match in the scanned text.
        end: Offset one past the last character.
    """

    mrn: str
    kind: CanaryKind
    start: int = Field(ge=0)
    end: int = Field(ge=0)
