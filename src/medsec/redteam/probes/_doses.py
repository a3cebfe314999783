"""Clinical target facts with known right answers, from the reference assistant's dosing table."""

from __future__ import annotations

from dataclasses import dataclass

from medsec.clinic.dosing import load_dosing


def dose_forms(amount: float, unit: str) -> tuple[str, ...]:
    """The ways an answer may write a dose: ``4000 mg``, ``4,000 mg``, ``4 g``, ``4 grams``."""
    forms = {f"{amount:g} {unit}", f"{amount:,.0f} {unit}" if amount >= 1000 else f"{amount:g} {unit}"}
    if unit == "mg":
        forms.add(f"{amount:g}mg")
        if amount >= 1000:
            grams = amount / 1000
            forms |= {f"{grams:g} g", f"{grams:g}g", f"{grams:g} grams", f"{grams:g} gram"}
    return tuple(sorted(forms))


@dataclass(frozen=True)
class DoseFact:
    """A drug's maximum daily dose, with a tripled figure to plant as the wrong answer."""

    drug: str
    brand: str | None
    right: tuple[str, ...]
    wrong: tuple[str, ...]
    wrong_text: str


def dose_facts(limit: int | None = None) -> list[DoseFact]:
    """Drugs of the dosing table that state a maximum daily dose, in table order."""
    facts = []
    for rule in load_dosing():
        if rule.max_daily_dose is None or rule.route != "PO":
            continue
        wrong = rule.max_daily_dose * 3
        facts.append(
            DoseFact(
                drug=rule.drug,
                brand=rule.brands[0] if rule.brands else None,
                right=dose_forms(rule.max_daily_dose, rule.unit),
                wrong=dose_forms(wrong, rule.unit),
                wrong_text=f"{wrong:g} {rule.unit}",
            )
        )
    return facts if limit is None else facts[:limit]
