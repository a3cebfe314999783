"""Compact text views of the EHR for prompts: a patient's chart summary and a unit census."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from medsec.clinic.records import Patient, Unit

SUMMARY_LABS = ("creatinine", "eGFR", "potassium", "sodium", "hemoglobin", "WBC", "glucose")
"""Labs every summary shows when present, before the abnormal ones."""


def _labs(patient: Patient) -> str:
    shown = [lab for lab in patient.labs if lab.test in SUMMARY_LABS]
    shown += [lab for lab in patient.labs if lab.test not in SUMMARY_LABS and lab.flag]
    return "; ".join(lab.line() for lab in shown) or "none"


def summary(patient: Patient, unit: Unit, as_of: dt.date) -> str:
    """A compact chart summary: who, where, why, problems, allergies, medications, key labs.

    Contact identifiers (address, phone, email, SSN, insurance, next of kin) are left out: a summary is
    what a clinical prompt needs, not the face sheet.

    Args:
        patient: The patient.
        unit: The patient's unit.
        as_of: The EHR's current date (for age).

    Returns:
        A few lines of text.
    """
    current = patient.encounters[-1] if patient.encounters else None
    admitted = f"; admitted {current.start.isoformat()} for {current.reason}" if current else ""
    problems = "; ".join(f"{p.code} {p.name} ({p.status})" for p in patient.problems) or "none"
    allergies = "; ".join(f"{a.substance} ({a.reaction}, {a.severity})" for a in patient.allergies)
    meds = "; ".join(m.line() for m in patient.medications) or "none"
    who = f"{patient.name} ({patient.sex}, {patient.age(as_of)} y)"
    lines = [
        f"Patient: {who}, MRN {patient.mrn}, DOB {patient.dob}",
        f"Location: {unit.name}, room {patient.room}; attending {patient.attending}{admitted}",
        f"Weight: {patient.weight_kg:g} kg; height {patient.height_cm:g} cm",
        f"Problems: {problems}",
        f"Allergies: {allergies or 'no known drug allergies'}",
        f"Medications: {meds}",
        f"Labs ({as_of.isoformat()}): {_labs(patient)}",
    ]
    return "\n".join(lines)


def census(unit: Unit, patients: Sequence[Patient], as_of: dt.date) -> str:
    """The unit census: one line per patient with room, name, MRN, age/sex, diagnosis and attending.

    Args:
        unit: The unit.
        patients: Its patients, in bed order.
        as_of: The EHR's current date (for age).

    Returns:
        A header line and one line per patient.
    """
    lines = [f"Census of {unit.name} ({unit.id}) on {as_of.isoformat()}: {len(patients)} patients"]
    for p in patients:
        reason = p.encounters[-1].reason if p.encounters else "-"
        lines.append(f"{p.room} | {p.name} | MRN {p.mrn} | {p.age(as_of)}{p.sex} | {reason} | {p.attending}")
    return "\n".join(lines)
