"""Clinical facts of a synthetic patient: problems, allergies, labs and medications that fit together.

Creatinine comes first; eGFR follows from it by the CKD-EPI 2021 equation; medications are then chosen
by eGFR band, allergy and clash, so each chart obeys the renal rules a clinician would apply.
"""

from __future__ import annotations

import datetime as dt
import random
from collections.abc import Sequence
from dataclasses import dataclass
from typing import TypeVar

from medsec.clinic.records import Allergy, Lab, Medication, Problem, Sex
from medsec.clinic.synth_data import ClinicalData, ConditionDef, LabDef, MedOption, UnitDef

T = TypeVar("T")

SEVERE_REACTIONS = frozenset(
    {"anaphylaxis", "angioedema", "Stevens-Johnson syndrome", "throat swelling", "bronchospasm"}
)


@dataclass(frozen=True)
class ClinicalRecord:
    """The clinical half of a generated patient."""

    primary: ConditionDef
    comorbidities: tuple[ConditionDef, ...]
    problems: tuple[Problem, ...]
    medications: tuple[Medication, ...]
    allergies: tuple[Allergy, ...]
    labs: tuple[Lab, ...]
    creatinine: float
    egfr: int


def ckd_epi_2021(creatinine: float, age: int, sex: Sex) -> int:
    """Estimated GFR (mL/min/1.73 m²) by the race-free CKD-EPI 2021 creatinine equation."""
    kappa, alpha = (0.7, -0.241) if sex == "F" else (0.9, -0.302)
    ratio = creatinine / kappa
    egfr: float = 142 * min(ratio, 1.0) ** alpha * max(ratio, 1.0) ** -1.200 * 0.9938**age
    return round(egfr * (1.012 if sex == "F" else 1.0))


def weighted_sample(rng: random.Random, items: Sequence[T], weights: Sequence[float], k: int) -> list[T]:
    """Draw up to ``k`` distinct items, each with probability proportional to its weight."""
    pool = list(zip(items, weights, strict=True))
    chosen: list[T] = []
    while pool and len(chosen) < k:
        ((item, _),) = rng.choices(pool, weights=[w for _, w in pool])
        chosen.append(item)
        pool = [(i, w) for i, w in pool if i is not item]
    return chosen


def _comorbidities(rng: random.Random, data: ClinicalData, primary: ConditionDef) -> list[ConditionDef]:
    count = rng.choices([0, 1, 2, 3, 4], weights=[2, 4, 4, 3, 1])[0]
    chosen: list[ConditionDef] = []
    groups = {primary.group}
    for cond in weighted_sample(rng, *_chronic_pool(data), k=len(data.conditions)):
        if len(chosen) == count:
            break
        if cond.chronic is not None and cond.chronic.group not in groups:
            chosen.append(cond)
            groups.add(cond.chronic.group)
    return chosen


def _chronic_pool(data: ClinicalData) -> tuple[list[ConditionDef], list[float]]:
    chronic = [c for c in data.conditions if c.chronic is not None]
    return chronic, [c.chronic.weight for c in chronic if c.chronic is not None]


def _allergies(rng: random.Random, data: ClinicalData) -> list[Allergy]:
    count = rng.choices([0, 1, 2], weights=[55, 33, 12])[0]
    out = []
    for spec in weighted_sample(rng, data.allergies, [a.weight for a in data.allergies], count):
        reaction = rng.choice(spec.reactions)
        severity = "severe" if reaction in SEVERE_REACTIONS else rng.choice(("mild", "moderate"))
        out.append(Allergy(substance=spec.substance, reaction=reaction, severity=severity))
    return out


def _value(rng: random.Random, band: tuple[float, float], decimals: int) -> float:
    return round(rng.uniform(*band), decimals)


def _labs(
    rng: random.Random, data: ClinicalData, conditions: Sequence[ConditionDef], creatinine: float, on: dt.date
) -> list[Lab]:
    defs = {lab.id: lab for lab in data.labs}
    overrides: dict[str, tuple[float, float]] = {}
    for cond in conditions:
        overrides.update(cond.labs)
    tests = list(dict.fromkeys([*data.base_panel, *overrides]))
    labs = []
    for test in tests:
        spec: LabDef = defs[test]
        value = (
            creatinine
            if test == "creatinine"
            else _value(rng, overrides.get(test, spec.normal), spec.decimals)
        )
        labs.append(
            Lab(test=test, value=value, unit=spec.unit, ref_low=spec.low, ref_high=spec.high, collected=on)
        )
    return labs


def _fits(option: MedOption, egfr: int, avoid: set[str], ordered: set[str]) -> bool:
    clash = option.drug in ordered or bool(ordered.intersection(option.not_with))
    return egfr >= option.min_egfr and option.drug not in avoid and not clash


def _medications(
    data: ClinicalData, conditions: Sequence[ConditionDef], egfr: int, allergies: list[Allergy]
) -> list[Medication]:
    avoid = {
        drug for a in data.allergies for drug in a.avoid if any(x.substance == a.substance for x in allergies)
    }
    meds: list[Medication] = []
    for cond in conditions:
        for options in cond.meds:
            option = next((o for o in options if _fits(o, egfr, avoid, {m.drug for m in meds})), None)
            if option is not None:
                meds.append(
                    Medication(
                        drug=option.drug,
                        amount=option.amount,
                        unit=option.unit,
                        route=option.route,
                        frequency=option.frequency,
                        indication=cond.name,
                        prn=option.prn,
                    )
                )
    return meds


def _problems(
    rng: random.Random, primary: ConditionDef, comorbid: Sequence[ConditionDef], admit: dt.date
) -> list[Problem]:
    problems = [Problem(code=primary.code, name=primary.name, status="active", onset=admit)]
    older = [(p.code, p.name) for p in primary.extra_problems] + [(c.code, c.name) for c in comorbid]
    for code, name in older:
        if all(p.code != code for p in problems):
            onset = admit - dt.timedelta(days=rng.randint(200, 5000))
            problems.append(Problem(code=code, name=name, status="chronic", onset=onset))
    return problems


def clinical_record(
    rng: random.Random, data: ClinicalData, unit: UnitDef, sex: Sex, age: int, admit: dt.date
) -> ClinicalRecord:
    """Generate a consistent clinical record for one patient admitted to ``unit``.

    Args:
        rng: The generator's random stream (consumed in a fixed order).
        data: The clinical building blocks.
        unit: Where the patient is.
        sex: The patient's sex (for creatinine norms and sex-specific conditions).
        age: Age in years (for eGFR).
        admit: Admission date.

    Returns:
        The record.
    """
    acute = [data.condition(c) for c in unit.acute if data.condition(c).sex in (None, sex)]
    primary = rng.choice(acute)
    comorbid = _comorbidities(rng, data, primary)
    conditions = [primary, *comorbid]
    creatinine = _value(rng, (0.55, 0.95) if sex == "F" else (0.7, 1.15), 2)
    for cond in conditions:
        if "creatinine" in cond.labs:
            creatinine = max(creatinine, _value(rng, cond.labs["creatinine"], 2))
    egfr = ckd_epi_2021(creatinine, age, sex)
    allergies = _allergies(rng, data)
    labs = _labs(rng, data, conditions, creatinine, data.as_of)
    labs.append(Lab(test="eGFR", value=egfr, unit="mL/min/1.73m2", ref_low=60, collected=data.as_of))
    return ClinicalRecord(
        primary=primary,
        comorbidities=tuple(comorbid),
        problems=tuple(_problems(rng, primary, comorbid, admit)),
        medications=tuple(_medications(data, conditions, egfr, allergies)),
        allergies=tuple(allergies),
        labs=tuple(labs),
        creatinine=creatinine,
        egfr=egfr,
    )
