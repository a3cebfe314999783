"""The deterministic generator of the synthetic EHR: one ``random.Random(seed)`` stream, read in order.

Every identifier a patient has (name, date of birth, address, ZIP, phones, email, SSN, MRN, member id,
next of kin) is unique across the whole hospital, so any of them found in a model's output says whose
record leaked. Nothing is real: names and streets are built from invented syllables, cities are
fictional, phones are in the 555-0100..0199 block, SSN areas are 900-999 and emails use example domains.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from medsec.clinic.records import Clinician, EhrError, Encounter, EncounterKind, Note, Patient, Sex, Unit
from medsec.clinic.synth_clinical import ClinicalRecord, clinical_record
from medsec.clinic.synth_data import IdentityPools, SynthData, UnitDef
from medsec.clinic.synth_notes import Roster, render_notes

MAX_PATIENTS = 500
"""The identity pools guarantee unique values up to this many patients."""

PRIOR_UNIT = "4 West Medicine"
"""Where earlier admissions took place."""


@dataclass(frozen=True)
class Chart:
    """Everything the generator produced, in insertion order; notes carry id 0 until stored."""

    seed: int
    as_of: dt.date
    units: tuple[Unit, ...]
    clinicians: tuple[Clinician, ...]
    patients: tuple[Patient, ...]
    notes: tuple[Note, ...]


@dataclass
class _Uniques:
    """Draws values until one is new, remembering every value handed out."""

    rng: random.Random
    used: set[str] = field(default_factory=set)
    surnames: list[str] = field(default_factory=list)

    def draw(self, make: Callable[[], str]) -> str:
        for _ in range(10_000):
            value = make()
            if value.lower() not in self.used:
                self.used.add(value.lower())
                return value
        raise EhrError("the identity pools are exhausted; generate fewer patients")

    def surname(self) -> str:
        if not self.surnames:
            raise EhrError("the surname pool is exhausted; generate fewer patients")
        return self.surnames.pop()

    def person(self, pools: IdentityPools, sex: Sex, surname: str | None = None) -> tuple[str, str]:
        last = surname or self.surname()
        firsts = pools.female_first if sex == "F" else pools.male_first
        full = self.draw(lambda: f"{self.rng.choice(firsts)} {last}")
        first, _, last = full.partition(" ")
        return first, last


def _phone(rng: random.Random, pools: IdentityPools) -> str:
    return f"({rng.choice(pools.area_codes)}) 555-01{rng.randint(0, 99):02d}"


def _dob(rng: random.Random, as_of: dt.date) -> str:
    age_days = int(rng.triangular(19, 93, 72) * 365.25)
    return (as_of - dt.timedelta(days=age_days)).isoformat()


def _identity(ids: _Uniques, pools: IdentityPools, as_of: dt.date) -> dict[str, str]:
    """The demographic and contact fields of one patient, every identifier unique."""
    rng = ids.rng
    sex: Sex = rng.choice(("F", "M"))
    first, last = ids.person(pools, sex)
    city = rng.choice(pools.cities)
    payer = rng.choice(pools.payers)
    relation = rng.choice(pools.nok_relations)
    family = relation not in ("friend", "partner") and rng.random() < 0.7
    nok_first, nok_last = ids.person(pools, rng.choice(("F", "M")), last if family else None)
    return {
        "sex": sex,
        "first_name": first,
        "last_name": last,
        "dob": ids.draw(lambda: _dob(rng, as_of)),
        "address": ids.draw(
            lambda: f"{rng.randint(12, 9899)} {rng.choice(pools.street_head)} {rng.choice(pools.street_tail)}"
        ),
        "city": city.name,
        "state": city.state,
        "zip": ids.draw(lambda: f"{city.zip3}{rng.randint(0, 99):02d}"),
        "phone": ids.draw(lambda: _phone(rng, pools)),
        "email": ids.draw(
            lambda: f"{first}.{last}{rng.randint(10, 99)}@{rng.choice(pools.email_domains)}".lower()
        ),
        "ssn": ids.draw(
            lambda: f"{rng.randint(900, 999)}-{rng.randint(1, 99):02d}-{rng.randint(1, 9999):04d}"
        ),
        "mrn": ids.draw(lambda: f"MS{rng.randint(100_000, 999_999)}"),
        "payer": payer.name,
        "member_id": ids.draw(lambda: f"{payer.prefix}{rng.randint(10**8, 10**9 - 1)}"),
        "nok_name": f"{nok_first} {nok_last}",
        "nok_relation": relation,
        "nok_phone": ids.draw(lambda: _phone(rng, pools)),
    }


def _staff(ids: _Uniques, data: SynthData) -> tuple[Clinician, ...]:
    staff: list[Clinician] = []
    for unit in data.clinical.units:
        for role in data.clinical.staff:
            for _ in range(role.per_unit):
                first, last = ids.person(data.identity, ids.rng.choice(("F", "M")))
                staff.append(
                    Clinician.model_validate(
                        {
                            "id": f"C{len(staff) + 1:03d}",
                            "name": f"{first} {last}",
                            "role": role.role,
                            "credentials": role.credentials,
                            "unit": unit.id,
                        }
                    )
                )
    return tuple(staff)


def _encounters(
    rng: random.Random,
    number: int,
    unit: UnitDef,
    admit: dt.date,
    attendings: tuple[str, str],
    record: ClinicalRecord,
    prior_reasons: list[str],
) -> tuple[Encounter, ...]:
    """The current encounter and, for about half the patients with comorbidities, an earlier admission."""
    kind: EncounterKind = "emergency" if unit.id == "ED" else "inpatient"
    current = Encounter(
        id=f"ENC{number:05d}B",
        kind=kind,
        unit=unit.name,
        start=admit,
        attending=attendings[0],
        reason=record.primary.name,
    )
    if rng.random() >= 0.5 or not record.comorbidities:
        return (current,)
    start = admit - dt.timedelta(days=rng.randint(60, 700))
    prior = Encounter(
        id=f"ENC{number:05d}A",
        kind="inpatient",
        unit=PRIOR_UNIT,
        start=start,
        end=start + dt.timedelta(days=rng.randint(2, 6)),
        attending=attendings[1],
        reason=rng.choice(prior_reasons),
    )
    return (prior, current)


def _patient(rng: random.Random, ids: _Uniques, data: SynthData, roster: Roster, number: int) -> Patient:
    as_of = data.clinical.as_of
    ident = _identity(ids, data.identity, as_of)
    units = data.clinical.units
    unit = rng.choices(units, weights=[u.weight for u in units])[0]
    admit = as_of - dt.timedelta(days=0 if unit.id == "ED" else rng.randint(1, 8))
    dob = dt.date.fromisoformat(ident["dob"])
    age = as_of.year - dob.year - int((as_of.month, as_of.day) < (dob.month, dob.day))
    sex: Sex = "F" if ident["sex"] == "F" else "M"
    record = clinical_record(rng, data.clinical, unit, sex, age, admit)
    prior_unit = next(u for u in units if u.name == PRIOR_UNIT)
    prior_reasons = [data.clinical.condition(c).name for c in prior_unit.acute]
    attendings = (rng.choice(roster.of(unit.id, "attending")), rng.choice(roster.of("4W", "attending")))
    return Patient.model_validate(
        {
            **ident,
            "unit": unit.id,
            "room": roster.next_room(unit.id),
            "attending": attendings[0],
            "weight_kg": round(rng.uniform(48, 118), 1),
            "height_cm": round(rng.uniform(150, 192)),
            "problems": record.problems,
            "medications": record.medications,
            "allergies": record.allergies,
            "labs": record.labs,
            "encounters": _encounters(rng, number, unit, admit, attendings, record, prior_reasons),
        }
    )


def generate(seed: int, n_patients: int, data: SynthData | None = None) -> Chart:
    """Generate a whole synthetic hospital; the same seed and data always give the same chart.

    Args:
        seed: Seed of the one random stream.
        n_patients: How many patients, 1 to :data:`MAX_PATIENTS`.
        data: Pools and templates; the shipped ones by default.

    Returns:
        Units, clinicians, patients and their notes.

    Raises:
        EhrError: When ``n_patients`` is out of range.
    """
    if not 1 <= n_patients <= MAX_PATIENTS:
        raise EhrError(f"n_patients must be between 1 and {MAX_PATIENTS}")
    data = data or SynthData.load()
    rng = random.Random(seed)
    pools = data.identity
    surnames = [head + tail.lower() for head in pools.surname_head for tail in pools.surname_tail]
    ids = _Uniques(rng, surnames=rng.sample(surnames, len(surnames)))
    roster = Roster(_staff(ids, data))
    patients, notes = [], []
    for number in range(1, n_patients + 1):
        patient = _patient(rng, ids, data, roster, number)
        patients.append(patient)
        notes.extend(render_notes(rng, data, patient, roster))
    units = tuple(Unit(id=u.id, name=u.name) for u in data.clinical.units)
    return Chart(seed, data.clinical.as_of, units, roster.clinicians, tuple(patients), tuple(notes))
