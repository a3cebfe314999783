"""The gateway's shortcuts change no result: the dose scanner's interaction pre-check, the PHI memo."""

from __future__ import annotations

import itertools
from collections import Counter
from pathlib import Path
from typing import Any

import pytest

from medsec.gateway.auth import Principal
from medsec.gateway.service import build_gateway
from medsec.guard.claims import interactions, table
from medsec.guard.scanner import Context
from medsec.guard.scanners import dose, phi
from medsec.guard.scanners.dose import DoseScanner
from medsec.phi import detect
from medsec.targets.openai import from_wire
from tests.gateway.conftest import config


def texts() -> list[str]:
    drugs = [r.drug for r in table()][:14] + ["insulin glargine", "metoprolol tartrate"]
    brands = [b for r in table() for b in r.brands][:4]
    out = ["I'm sorry, I can't share that.", "Take it with food.", ""]
    for a, b in itertools.combinations(drugs + brands, 2):
        out.append(f"Start {a} and continue {b.upper()} for now.")
        out.append(f"{a}-{b}; x_{a} and {b}s")
    out += [f"Use caution: {a} with {b} may interact." for a, b in itertools.pairwise(drugs)]
    return out


def test_the_interaction_pre_check_never_skips_a_finding() -> None:
    dosing = table()
    found = 0
    for text in texts():
        expected = interactions(text, dosing)
        found += bool(expected)
        assert dose._may_interact(text, dosing) or not expected, text
    assert found > 10  # the texts do name interacting pairs


async def test_the_dose_scanner_finds_what_it_finds_without_the_pre_check(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    scanner, ctx = DoseScanner(), Context(channel="output")
    fast = [await scanner(text, ctx) for text in texts()]
    monkeypatch.setattr(dose, "_may_interact", lambda text, dosing: True)
    assert fast == [await scanner(text, ctx) for text in texts()]


@pytest.fixture
def counted(monkeypatch: pytest.MonkeyPatch) -> Counter[str]:
    calls: Counter[str] = Counter()

    def counting(text: str) -> Any:
        calls[text] += 1
        return detect(text)

    monkeypatch.setattr(phi, "detect", counting)  # the gateway's own searches go through phi.remembered
    return calls


async def test_a_request_searches_each_text_for_phi_once_with_the_same_result(
    tmp_path: Path, counted: Counter[str], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setenv("MEDSEC_AUDIT_KEY", "test-audit-key-0123456789abcdef")
    gw = build_gateway(config(tmp_path))
    plain = "What is the usual adult dose of acetaminophen?"
    named = "Summarise John Smith, MRN 4821937, phone 617-555-0199, chest pain."
    messages = tuple(from_wire({"role": "user", "content": t}) for t in (plain, named))
    principal = Principal(id="nurse-app", role="nurse")
    sent = await gw.exchange(principal).guard_messages(messages)
    assert sent is not None and sent[0].content == plain and "John Smith" not in sent[1].content
    assert counted[plain] == 1  # the pipeline's search, reused when the gateway pseudonymises
    assert counted[named] == 1 and "4821937" not in sent[1].content
    gw.audit.log.close()
