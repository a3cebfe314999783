from __future__ import annotations

import re
from pathlib import Path

import pytest

from medsec.clinic.dosing import DoseRule, load_dosing
from medsec.clinic.knowledge import KnowledgeBase
from medsec.clinic.synth_data import SynthData
from medsec.errors import ConfigError


def _mentions(text: str, value: float, unit: str) -> bool:
    forms = {f"{value:g}", f"{value:,g}"}
    if unit == "mg" and value >= 1000:
        forms.add(f"{value / 1000:g} g")
    return any(re.search(rf"(?<![\d.,]){re.escape(form)}(?![\d])", text) for form in forms)


def test_table_validates_and_covers_40_drugs() -> None:
    table = load_dosing()
    assert len(table) >= 40
    assert len(set(table.drugs())) == len(table)
    assert all(rule.source and rule.contraindications and rule.interactions for rule in table)


def test_lookup_by_generic_or_brand() -> None:
    table = load_dosing()
    acetaminophen = table.get("Tylenol")
    assert acetaminophen is not None and acetaminophen is table.get(" acetaminophen ")
    assert acetaminophen.max_daily_dose == 4000 and acetaminophen.unit == "mg"
    ibuprofen = table.get("Motrin")
    assert ibuprofen is not None and ibuprofen.max_daily_dose == 3200
    assert table.get("unobtainium") is None


def test_renal_rules_select_the_band() -> None:
    table = load_dosing()
    metformin = table.get("metformin")
    assert metformin is not None
    assert [r.action for r in metformin.renal_rules(25)] == ["contraindicated"]
    assert [r.max_daily_dose for r in metformin.renal_rules(40)] == [1000]
    assert metformin.renal_rules(80) == ()
    gabapentin = table.get("gabapentin")
    assert gabapentin is not None
    assert [r.max_daily_dose for r in gabapentin.renal_rules(20)] == [700]


def test_every_dosing_drug_has_a_matching_knowledge_passage() -> None:
    kb = KnowledgeBase.load()
    for rule in load_dosing():
        passage = kb.get(f"kb-dose-{rule.slug}")
        assert rule.drug in passage.drugs
        if rule.max_daily_dose is not None:
            assert _mentions(passage.text, rule.max_daily_dose, rule.unit), rule.drug


def test_chart_doses_stay_within_the_table() -> None:
    table = load_dosing()
    for condition in SynthData.load().clinical.conditions:
        for option in (o for options in condition.meds for o in options):
            rule = table.get(option.drug)
            if rule is None or rule.unit != option.unit:
                continue
            assert rule.max_single_dose is None or option.amount <= rule.max_single_dose, option.drug


def test_inconsistent_rules_are_rejected(tmp_path: Path) -> None:
    bad = tmp_path / "dosing.yaml"
    bad.write_text(
        "rules:\n  - drug: testamol\n    drug_class: x\n    route: PO\n    unit: mg\n"
        "    usual_dose: [500, 2000]\n    frequency: daily\n    max_single_dose: 1000\n"
        "    contraindications: [x]\n    interactions: [y]\n    source: z\n",
        "utf-8",
    )
    with pytest.raises(ConfigError, match=r"dosing\.yaml:\d+"):
        load_dosing(bad)
    with pytest.raises(ValueError):
        DoseRule.model_validate({"drug": "Bad Name"})
