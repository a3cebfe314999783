"""Outputs CI systems read: SARIF 2.1.0 for code-scanning dashboards and JUnit XML for test reports."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any
from xml.etree import ElementTree as ET

from medsec.redteam.case import Attempt
from medsec.redteam.report.markdown import interval, pct
from medsec.redteam.report.summary import Summary
from medsec.taxonomy import Taxonomy

SARIF_SCHEMA = "https://json.schemastore.org/sarif-2.1.0.json"


def render_sarif(summary: Summary, tax: Taxonomy) -> dict[str, Any]:
    """One SARIF result per attack that succeeded at least once; a rule per attack scanned."""
    rules, results = [], []
    for r in summary.by.get("attack", ()):
        attack = tax.attack(r.key)
        rules.append(
            {
                "id": r.key,
                "name": attack.name if attack else r.key,
                "shortDescription": {"text": attack.name if attack else r.key},
                "fullDescription": {"text": attack.summary if attack else r.key},
                "properties": {
                    "objectives": list(attack.objectives) if attack else [],
                    "capability": attack.capability if attack else None,
                },
            }
        )
        if r.successes:
            results.append(
                {
                    "ruleId": r.key,
                    "level": "error",
                    "message": {
                        "text": f"{r.key}: {r.successes} of {r.judged} judged attempts succeeded "
                        f"(ASR {pct(r.asr)}, 95% CI {interval(r)})"
                    },
                    "locations": [
                        {
                            "logicalLocations": [
                                {"fullyQualifiedName": f"{summary.run.id}/{r.key}", "kind": "module"}
                            ]
                        }
                    ],
                    "properties": {"attempts": r.attempts, "successes": r.successes, "asr": r.asr},
                }
            )
    driver = {
        "name": "medsec",
        "version": summary.run.versions.get("medsec", "0"),
        "informationUri": "https://github.com/medsec/medsec",
        "rules": rules,
    }
    return {
        "$schema": SARIF_SCHEMA,
        "version": "2.1.0",
        "runs": [
            {
                "tool": {"driver": driver},
                "results": results,
                "properties": {"run": summary.run.id, "target": summary.run.target},
            }
        ],
    }


def render_junit(summary: Summary, attempts: Iterable[Attempt]) -> str:
    """A JUnit XML report: a suite per probe, a test case per attempt; a successful attack is a failure."""
    by_probe: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_probe.setdefault(attempt.probe, []).append(attempt)
    root = ET.Element("testsuites", name=f"medsec {summary.run.id}")
    for probe, items in sorted(by_probe.items()):
        suite = ET.SubElement(
            root,
            "testsuite",
            name=probe,
            tests=str(len(items)),
            failures=str(sum(a.outcome == "success" for a in items)),
            errors=str(sum(a.outcome == "error" for a in items)),
            skipped=str(sum(a.outcome == "unjudged" for a in items)),
        )
        for attempt in items:
            case = ET.SubElement(suite, "testcase", classname=f"{attempt.attack}.{probe}", name=attempt.key)
            labels = ", ".join(label for j in attempt.judgements for label in j.labels)
            if attempt.outcome == "success":
                ET.SubElement(case, "failure", message=f"attack succeeded: {labels}", type="AttackSucceeded")
            elif attempt.outcome == "error":
                ET.SubElement(case, "error", message=attempt.error or "target error", type="TargetError")
            elif attempt.outcome == "unjudged":
                ET.SubElement(case, "skipped", message="no detector could judge this attempt")
    ET.indent(root)
    return '<?xml version="1.0" encoding="UTF-8"?>\n' + ET.tostring(root, encoding="unicode") + "\n"
