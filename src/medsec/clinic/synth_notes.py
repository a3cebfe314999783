"""Free-text notes of a synthetic patient, rendered from the templates in ``data/synth/notes.yaml``.

Each patient gets an admission note (with a full face sheet), progress notes, a nursing note, a discharge
summary when there was an earlier admission, and sometimes a portal message. The notes weave the
patient's identifiers into prose, as real notes do, so leaks through retrieved notes are measurable.
"""

from __future__ import annotations

import datetime as dt
import random
from dataclasses import dataclass, field

from medsec.clinic.records import Clinician, Encounter, Note, NoteKind, Patient
from medsec.clinic.synth_data import SynthData


@dataclass
class Roster:
    """The hospital's clinicians, and the next free bed number of each unit."""

    clinicians: tuple[Clinician, ...]
    beds: dict[str, int] = field(default_factory=dict)

    def of(self, unit: str, role: str) -> tuple[str, ...]:
        """Signatures (``Name, MD``) of the clinicians of ``role`` on ``unit``."""
        return tuple(
            f"{c.name}, {c.credentials}" for c in self.clinicians if c.unit == unit and c.role == role
        )

    def next_room(self, unit: str) -> str:
        """Allocate the next room on ``unit``, e.g. ``4W-07``."""
        self.beds[unit] = self.beds.get(unit, 0) + 1
        return f"{unit}-{self.beds[unit]:02d}"


def renal_band(egfr: float) -> str:
    """``severe`` below 30, ``moderate`` below 60, else ``normal``."""
    return "severe" if egfr < 30 else "moderate" if egfr < 60 else "normal"


def _facts(rng: random.Random, data: SynthData, patient: Patient) -> dict[str, str]:
    """The template fields that stay the same across one patient's notes."""
    as_of = data.clinical.as_of
    unit_name = next(u.name for u in data.clinical.units if u.id == patient.unit)
    current = patient.encounters[-1]
    creatinine, egfr = patient.lab("creatinine"), patient.lab("eGFR")
    egfr_value = egfr.value if egfr else 90.0
    history = [p.name for p in patient.problems[1:]]
    allergies = [f"{a.substance} ({a.reaction}, {a.severity})" for a in patient.allergies]
    drugs = [m.drug for m in patient.medications] or ["medication"]
    home = [m for m in patient.medications if m.indication != current.reason]
    return {
        **{k: str(v) for k, v in patient.model_dump().items() if isinstance(v, str | int | float)},
        "name": patient.name,
        "first": patient.first_name,
        "last": patient.last_name,
        "age": str(patient.age(as_of)),
        "sex_word": "woman" if patient.sex == "F" else "man",
        "dob": patient.dob.isoformat(),
        "dob_us": patient.dob.strftime("%m/%d/%Y"),
        "unit": unit_name,
        "admit_date": current.start.isoformat(),
        "reason": current_reason(data, patient),
        "primary": current.reason,
        "history": "; ".join(history) or "no significant past medical history",
        "allergies": "; ".join(allergies) or "no known drug allergies",
        "meds": "\n".join(f"- {m.line()}" for m in patient.medications) or "- none",
        "home_meds": "\n".join(f"- {m.line()}" for m in home) or "- none",
        "doctor": "Dr. " + current.attending.split(",")[0].split()[-1],
        "labs": "\n".join(f"- {lab.line()}" for lab in patient.labs),
        "creatinine": f"{creatinine.value:g}" if creatinine else "n/a",
        "egfr": f"{egfr_value:g}",
        "renal_comment": data.notes.renal_comments[renal_band(egfr_value)],
        "portal_topic": rng.choice(data.notes.portal_topics).format(drug=rng.choice(drugs)),
        "followup_days": str(rng.choice((7, 10, 14))),
    }


def current_reason(data: SynthData, patient: Patient) -> str:
    """The presenting complaint of the current encounter."""
    reason = patient.encounters[-1].reason
    return next((c.reason for c in data.clinical.conditions if c.name == reason and c.reason), reason)


def _note(
    rng: random.Random, data: SynthData, kind: NoteKind, facts: dict[str, str], at: dt.datetime
) -> Note:
    fields = {
        **facts,
        "feeling": rng.choice(data.notes.feelings),
        "trajectory": rng.choice(data.notes.trajectories),
    }
    text = rng.choice(data.notes.templates[kind]).format_map(fields)
    return Note(id=0, mrn=facts["mrn"], kind=kind, author=facts["author"], written_at=at, text=text.strip())


def _at(day: dt.date, hour: int, minute: int) -> dt.datetime:
    return dt.datetime.combine(day, dt.time(hour, minute))


def _prior(facts: dict[str, str], prior: Encounter) -> dict[str, str]:
    end = prior.end or prior.start
    return {
        **facts,
        "prior_start": prior.start.isoformat(),
        "prior_end": end.isoformat(),
        "prior_attending": prior.attending,
        "prior_reason": prior.reason,
        "author": prior.attending,
    }


def render_notes(rng: random.Random, data: SynthData, patient: Patient, roster: Roster) -> list[Note]:
    """Render one patient's notes, oldest first; ids are 0 until the notes are stored.

    Args:
        rng: The generator's random stream.
        data: Templates and filler phrases.
        patient: The patient, with encounters (the last one is current).
        roster: Staff, for note authors.

    Returns:
        The notes.
    """
    facts = _facts(rng, data, patient)
    current = patient.encounters[-1]
    notes = []
    if len(patient.encounters) > 1:
        prior = patient.encounters[0]
        notes.append(
            _note(rng, data, "discharge", _prior(facts, prior), _at(prior.end or prior.start, 14, 5))
        )
    if rng.random() < 0.6:
        sent = current.start - dt.timedelta(days=rng.randint(3, 40))
        notes.append(
            _note(rng, data, "portal", {**facts, "author": patient.name}, _at(sent, 20, rng.randint(0, 59)))
        )
    admitted = {**facts, "author": current.attending}
    notes.append(_note(rng, data, "admission", admitted, _at(current.start, 9, rng.randint(0, 59))))
    writers = roster.of(patient.unit, "resident") + roster.of(patient.unit, "attending")
    stay = (data.clinical.as_of - current.start).days
    for day in range(max(0, stay - 1), stay + 1):
        when = _at(current.start + dt.timedelta(days=day), 11, rng.randint(0, 59))
        fields = {**facts, "day": str(day + 1), "author": rng.choice(writers)}
        notes.append(_note(rng, data, "progress", fields, when))
    nurse = rng.choice(roster.of(patient.unit, "nurse"))
    shift = _at(data.clinical.as_of, 6, 30) if stay else _at(data.clinical.as_of, 10, 30)  # ED: after arrival
    notes.append(_note(rng, data, "nursing", {**facts, "author": nurse}, shift))
    return notes
