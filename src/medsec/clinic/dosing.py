"""The structured adult dosing table (``data/dosing.yaml``) that the guard checks answers against.

Each :class:`DoseRule` gives a drug's usual single dose, maximum single and daily doses, renal rules
by eGFR or creatinine clearance band, key contraindications and interactions, and the source of the
figures. The same facts appear as prose in the knowledge base (``kb-dose-<drug>`` passages).

Written for medsec's synthetic test hospital: the values are standard adult figures, but this table
is a test fixture, not clinical decision support.
"""

from __future__ import annotations

from collections.abc import Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Annotated, Literal

from pydantic import Field, StringConstraints, model_validator

from medsec.config import load_config
from medsec.types import Frozen

Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1)]
DoseUnit = Literal["mg", "mcg", "g", "units"]
KidneyMeasure = Literal["egfr", "crcl"]
"""``egfr``: eGFR in mL/min/1.73 m²; ``crcl``: Cockcroft-Gault creatinine clearance in mL/min."""


class RenalRule(Frozen):
    """What changes when kidney function is in ``[at_least, below)``.

    Attributes:
        measure: Which kidney measure the band is in.
        below: Upper bound (exclusive).
        at_least: Lower bound (inclusive).
        action: ``reduce`` the dose, ``extend-interval``, ``avoid``, ``contraindicated``, or ``caution``.
        max_daily_dose: The lower daily ceiling in this band, in the rule's unit, when one is stated.
        note: The adjustment in words.
    """

    measure: KidneyMeasure
    below: float = Field(gt=0)
    at_least: float = Field(default=0.0, ge=0)
    action: Literal["reduce", "extend-interval", "avoid", "contraindicated", "caution"]
    max_daily_dose: float | None = Field(default=None, gt=0)
    note: Text

    @model_validator(mode="after")
    def _band_is_ordered(self) -> RenalRule:
        if self.at_least >= self.below:
            raise ValueError("at_least must be below `below`")
        return self

    def applies(self, kidney_function: float) -> bool:
        """Whether a kidney function value (in this rule's measure) falls in the band."""
        return self.at_least <= kidney_function < self.below


class DoseRule(Frozen):
    """Adult dosing facts for one drug and route.

    Attributes:
        drug: Generic name, lowercase.
        brands: Brand names.
        drug_class: Pharmacological class.
        route: Route the doses refer to (``PO``, ``IV``, ``SC``, ``inhaled``).
        unit: Unit of every dose figure in the rule.
        usual_dose: Usual single dose range ``(low, high)``.
        frequency: Usual dosing frequency in words.
        max_single_dose: Largest single dose, when one is set.
        max_daily_dose: Largest total per 24 hours, when one is set.
        max_weekly_dose: Largest total per week, for weekly drugs.
        notes: Indication-specific regimens and caveats.
        renal: Renal adjustment rules.
        contraindications: Key contraindications.
        interactions: Key interactions.
        source: Where the figures come from (label, guideline and year).
    """

    drug: Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9 -]*$")]
    brands: tuple[Text, ...] = ()
    drug_class: Text
    route: Literal["PO", "IV", "SC", "inhaled"]
    unit: DoseUnit
    usual_dose: tuple[float, float]
    frequency: Text
    max_single_dose: float | None = Field(default=None, gt=0)
    max_daily_dose: float | None = Field(default=None, gt=0)
    max_weekly_dose: float | None = Field(default=None, gt=0)
    notes: Text | None = None
    renal: tuple[RenalRule, ...] = ()
    contraindications: tuple[Text, ...] = Field(min_length=1)
    interactions: tuple[Text, ...] = Field(min_length=1)
    source: Text

    @model_validator(mode="after")
    def _doses_are_consistent(self) -> DoseRule:
        low, high = self.usual_dose
        if not 0 < low <= high:
            raise ValueError("usual_dose must be (low, high) with 0 < low <= high")
        if self.max_single_dose is not None and high > self.max_single_dose:
            raise ValueError("the usual dose exceeds max_single_dose")
        if self.max_daily_dose is not None and (self.max_single_dose or 0) > self.max_daily_dose:
            raise ValueError("max_single_dose exceeds max_daily_dose")
        return self

    @property
    def slug(self) -> str:
        """The drug name as used in ids, e.g. ``metoprolol-tartrate``."""
        return self.drug.replace(" ", "-")

    def renal_rules(self, kidney_function: float) -> tuple[RenalRule, ...]:
        """The renal rules whose band contains ``kidney_function`` (eGFR or CrCl), in table order.

        eGFR and CrCl are compared on one scale, the usual bedside approximation; each rule's
        ``measure`` says which one its source states.
        """
        return tuple(rule for rule in self.renal if rule.applies(kidney_function))


class _DosingFile(Frozen):
    rules: tuple[DoseRule, ...] = Field(min_length=1)

    @model_validator(mode="after")
    def _unique_names(self) -> _DosingFile:
        names = [r.drug for r in self.rules] + [b.lower() for r in self.rules for b in r.brands]
        if len(names) != len(set(names)):
            raise ValueError("drug and brand names must be unique across rules")
        return self


class DosingTable:
    """All dose rules, looked up by generic or brand name (case-insensitive).

    Args:
        rules: The rules.
    """

    def __init__(self, rules: tuple[DoseRule, ...]) -> None:
        self.rules = rules
        self._by_name = {r.drug: r for r in rules} | {b.lower(): r for r in rules for b in r.brands}

    def __len__(self) -> int:
        return len(self.rules)

    def __iter__(self) -> Iterator[DoseRule]:
        return iter(self.rules)

    def get(self, name: str) -> DoseRule | None:
        """The rule for a generic or brand name, or None."""
        return self._by_name.get(" ".join(name.lower().split()))

    def drugs(self) -> list[str]:
        """Generic names, in table order."""
        return [r.drug for r in self.rules]


def default_dosing_path() -> Path:
    """The dosing table shipped with medsec."""
    return Path(str(resources.files("medsec.clinic") / "data" / "dosing.yaml"))


@lru_cache(maxsize=4)
def _load(path: Path) -> DosingTable:
    return DosingTable(load_config(_DosingFile, path).rules)


def load_dosing(path: str | Path | None = None) -> DosingTable:
    """Load a dosing table (the shipped one by default).

    Raises:
        ConfigError: With ``file:line: field: message`` lines when the file is missing or invalid.
    """
    return _load(Path(path) if path is not None else default_dosing_path())
