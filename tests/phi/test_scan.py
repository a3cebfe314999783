"""The fast scans find exactly what each rule's plain regex finds (texts written by the medsec developers)."""

from __future__ import annotations

import re

import pytest

from medsec.errors import ConfigError
from medsec.phi.patterns import VALIDATORS
from medsec.phi.rules import _anchor, load_rules
from medsec.phi.scan import Rule, compile_scans, label_key, run_scans

CORPUS = [
    "Pt JOHN SMITH (MRN: 00482913), DOB 04/17/1951, seen Tue 08/20/2024 by Dr. Mary O'Brien-Jones, MD.",
    "Call 410-555-0199 ext. 22 or fax: (410) 555-0100; pager 555-0142; cell +1 410 555 0123.",
    "SSN 219-09-9999, last 4 of SSN 4321, ss# 219099999; social security number ending in 9999; ***-**-1234.",
    "Email jdoe@example.org, see https://portal.example.org/x or www.example.com; login from 10.12.0.44,",
    "fe80::1ff:fe23:4567:890a and 2001:db8:85a3:0:0:8a2e:370:7334, MAC 00:1a:2b:3c:4d:5e, "
    "id 123e4567-e89b-12d3-a456-426614174000.",
    "Member ID QX-448812, policy # 99812-A, group no. 7731, Acct # 7731-2290, claim number CLM-20240917.",
    "Plate number 7ABC123, VIN 1HGCM82633A004352, pacemaker serial # PJN4401923, lot no. L2024-117.",
    "Accession # S24-18833, specimen id SP-99812, case #2024-0042, order number 55123, rx # 7712093.",
    "Lives at 42 Oak Street, Apt 3, P.O. Box 1187, Fresno, CA 93721, zip code 10027-1234.",
    "She lives in Springfield and works at Acme Widgets Inc. in Kent County; moved to Boston last year.",
    "Transferred from Lakeside Regional Hospital to the Mayo Clinic, then St. Mary's Medical Center.",
    "Seen on April 17 and Feb 7, in March, on the 3rd of June 2023, since December, last Friday, 1/8.",
    "A 93-year-old woman, aged 101, in her late 90s; born 1931-02-11; visit 20240117; labs 04/2025.",
    "Christmas Eve 2023 and summer of 2019; DEA AB1234563, NPI 1234567893, CLIA 12D3456789.",
    "Card 4111 1111 1111 1111, IBAN DE89 3704 0044 0532 0130 00, MBI 1EG4-TE5-MK73, code AB-123456.",
    "chart no. 5512, mr# 0042231, pid 77231, fingerprint id FP-00231, badge number 4412, #A-22913.",
    "xfax 4105550100 rapid 12 papt 12 ssnx 123; UNIT NUMBER 4412-99; Ssn: 219 09 9999.",
    "Dial x 2231 or ext 4412; seen on 3/14 with fever at the Riverside clinic, University of Chicago.",
]


def _plain(rule: Rule, text: str) -> list[tuple[int, int, str]]:
    """What ``finditer`` of the rule's own pattern finds, after its checksum and label lookup."""
    regex = re.compile(rule.pattern, rule.flags)
    value = "v" if "v" in regex.groupindex else 0
    found = []
    for m in regex.finditer(text):
        start, end = m.span(value)
        if start < 0 or end <= start:
            continue
        if rule.validate and not VALIDATORS[rule.validate](text[start:end]):
            continue
        kind = rule.type if rule.labels is None else rule.labels.get(label_key(m["lab"]))
        if kind is not None:
            found.append((start, end, kind.value))
    return found


RULES = [rule for scan in load_rules().scans for rule in scan.rules]


@pytest.mark.parametrize("rule", RULES, ids=[r.id for r in RULES])
def test_scan_matches_plain_regex(rule: Rule) -> None:
    scans = compile_scans([rule])
    for text in CORPUS:
        fast = sorted({(c.start, c.end, c.type.value) for c in run_scans(text, scans)})
        assert fast == sorted(set(_plain(rule, text))), text


def test_fused_scans_match_single_ones() -> None:
    alone = [scan for rule in RULES for scan in compile_scans([rule])]
    for text in CORPUS:
        assert sorted(run_scans(text, load_rules().scans)) == sorted(run_scans(text, alone))


def test_corpus_exercises_most_rules() -> None:
    silent = [rule.id for rule in RULES if not any(_plain(rule, text) for text in CORPUS)]
    assert len(silent) <= len(RULES) // 10, silent


def test_self_anchor_needs_a_lowercase_pattern() -> None:
    assert _anchor("self", r"\bfax\s*\d+", re.IGNORECASE, {}) == r"fax\s*\d+"
    with pytest.raises(ValueError, match="lowercase"):
        _anchor("self", r"\bFax\s*\d+", re.IGNORECASE, {})
    with pytest.raises(ValueError, match="lowercase"):
        _anchor("self", r"\bfax\s*\d+", 0, {})


def test_rule_errors_are_config_errors() -> None:
    from medsec.phi.rules import _rule

    with pytest.raises(ConfigError, match="broken"):
        _rule({"id": "broken", "type": "ID", "score": 0.5, "pattern": "(unclosed"}, {})
