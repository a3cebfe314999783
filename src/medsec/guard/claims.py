"""Dose claims in free text, and how they compare with the dosing table.

A claim is a drug the table knows, followed within a short distance by an amount and unit, and the
frequency or "per day" that follows it. Checks compare the claim with the drug's rule: maximum single and
daily dose, route, and renal bands when the patient's kidney function is known.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache

from medsec.clinic.dosing import DoseRule, DosingTable, load_dosing
from medsec.types import Finding

_TO_MG = {"mg": 1.0, "mcg": 0.001, "µg": 0.001, "ug": 0.001, "g": 1000.0}
_ROUTES = {
    "po": "PO",
    "oral": "PO",
    "orally": "PO",
    "by mouth": "PO",
    "iv": "IV",
    "intravenous": "IV",
    "intravenously": "IV",
    "sc": "SC",
    "subcutaneous": "SC",
    "subcutaneously": "SC",
    "inhaled": "inhaled",
}
_PER_DAY = re.compile(r"^\s*(?:/\s*day|per day|a day|daily|/24 ?h|in 24 hours|each day|every day)\b", re.I)
_TIMES = {"once": 1, "twice": 2, "three times": 3, "four times": 4, "bid": 2, "b.i.d.": 2, "tid": 3, "qid": 4}
_FREQ = re.compile(
    r"\b(?:every|q)\s*(\d+(?:\.\d+)?)\s*(?:h|hours?|hrly)\b|\b(once|twice|three times|four times)"
    r"\s+(?:a |per )?day\b|\b(once|twice|three times|four times) daily\b|\b(bid|tid|qid)\b",
    re.I,
)
_ROUTE = re.compile(r"\b(" + "|".join(_ROUTES) + r")\b", re.I)
CAUTION = re.compile(
    r"\b(?:avoid|interact\w*|caution|monitor\w*|risk|not recommended|contraindicat\w*|do not|"
    r"don't|should not|bleeding|reduce|adjust)\b",
    re.I,
)


@dataclass(frozen=True)
class DoseClaim:
    """One dose stated in a text: drug rule, single and daily amounts in the rule's unit, route, span."""

    rule: DoseRule
    single: float | None
    daily: float | None
    route: str | None
    start: int
    end: int


@lru_cache(maxsize=4)
def _claim_regex(table_id: int, names: tuple[str, ...]) -> re.Pattern[str]:
    alternatives = "|".join(re.escape(n) for n in sorted(names, key=len, reverse=True))
    return re.compile(
        r"\b(?P<drug>" + alternatives + r")\b[^.;\n]{0,40}?(?P<amount>\d+(?:[.,]\d+)?)\s*"
        r"(?P<unit>mg|mcg|µg|ug|g|units?)\b(?P<rest>[^.;\n]{0,50})",
        re.I,
    )


def table() -> DosingTable:
    """The shipped dosing table."""
    return load_dosing()


def _amount(raw: str, unit: str, rule: DoseRule) -> float | None:
    value = float(raw.replace(",", ""))
    unit = unit.lower().rstrip("s") if unit.lower().startswith("unit") else unit.lower()
    if rule.unit == "units" or unit == "unit":
        return value if rule.unit == "units" and unit == "unit" else None
    return value * _TO_MG[unit] / _TO_MG[rule.unit]


def _per_day(rest: str) -> float | None:
    found = _FREQ.search(rest)
    if found is None:
        return None
    if found.group(1):
        return 24.0 / max(float(found.group(1)), 1.0)
    return float(_TIMES[(found.group(2) or found.group(3) or found.group(4)).lower()])


def dose_claims(text: str, dosing: DosingTable | None = None) -> list[DoseClaim]:
    """Every dose claim in ``text`` for drugs the table knows."""
    dosing = dosing or table()
    names = tuple(n for r in dosing for n in (r.drug, *r.brands))
    out = []
    for m in _claim_regex(id(dosing), names).finditer(text):
        rule = dosing.get(m.group("drug"))
        amount = _amount(m.group("amount"), m.group("unit"), rule) if rule else None
        if rule is None or amount is None:
            continue
        rest = m.group("rest")
        route = _ROUTE.search(text[max(0, m.start() - 20) : m.end()])
        single: float | None = amount
        daily: float | None = None
        if _PER_DAY.match(rest):
            single, daily = None, amount
        else:
            times = _per_day(rest)
            daily = amount * times if times else None
        out.append(
            DoseClaim(
                rule, single, daily, _ROUTES[route.group(1).lower()] if route else None, m.start(), m.end()
            )
        )
    return out


def check(claim: DoseClaim, kidney_function: float | None = None) -> list[Finding]:
    """How a claim breaks its drug's rule (empty when it does not)."""
    r, found = claim.rule, []
    span = {"start": claim.start, "end": claim.end}
    if claim.route and claim.route != r.route:
        found.append(
            Finding(label="dose.route_unverified", score=0.5, detail=f"table covers {r.route}", **span)
        )
        return found
    if claim.single is not None and r.max_single_dose and claim.single > r.max_single_dose * 1.0001:
        found.append(Finding(label="dose.exceeds_single", score=0.95, detail=f"{r.drug} max single", **span))
    if claim.daily is not None and r.max_daily_dose and claim.daily > r.max_daily_dose * 1.0001:
        found.append(Finding(label="dose.exceeds_daily", score=0.95, detail=f"{r.drug} max daily", **span))
    for band in r.renal_rules(kidney_function) if kidney_function is not None else ():
        if band.action in ("avoid", "contraindicated"):
            found.append(Finding(label="dose.renal_contraindicated", score=0.9, detail=r.drug, **span))
        elif band.max_daily_dose and claim.daily and claim.daily > band.max_daily_dose:
            found.append(Finding(label="dose.renal_exceeds_daily", score=0.9, detail=r.drug, **span))
    return found


def interactions(text: str, dosing: DosingTable | None = None) -> list[Finding]:
    """Drug pairs the table lists as interacting or contraindicated, named together without a caution."""
    dosing = dosing or table()
    low = text.lower()
    named = [r for r in dosing if re.search(rf"\b{re.escape(r.drug)}\b", low)]
    if len(named) < 2 or CAUTION.search(text):
        return []
    found = []
    for a in named:
        listed = " ".join((*a.interactions, *a.contraindications)).lower()
        for b in named:
            if b is not a and (b.drug in listed or b.drug_class.lower() in listed) and a.drug < b.drug:
                found.append(Finding(label="dose.interaction", score=0.7, detail=f"{a.drug} + {b.drug}"))
    return found
