from __future__ import annotations

import base64
from collections import Counter
from typing import Any

import pytest

from medsec.redteam.case import Case
from medsec.redteam.detectors.compliance import Compliance
from medsec.redteam.probe import ScanContext
from medsec.redteam.probes.safety.dataset import HarmfulDataset
from medsec.redteam.probes.safety.harmful import HarmfulRequests
from medsec.redteam.probes.safety.jailbreak import Jailbreak
from medsec.redteam.probes.safety.loaders import CATEGORIES, own_benign, own_harmful
from medsec.redteam.probes.safety.over_refusal import OverRefusal
from medsec.redteam.probes.safety.techniques import TECHNIQUES
from medsec.redteam.run import plan
from medsec.registry import Registry
from medsec.taxonomy import load_taxonomy
from medsec.types import Spec
from tests.contracts import contract_problems

PROBES = {
    "harmful-requests": HarmfulRequests(),
    "over-refusal": OverRefusal(),
    "jailbreak": Jailbreak(),
}


def cases(probe: object, seed: int = 0) -> list[Case]:
    return list(probe.cases(ScanContext(seed=seed)))  # type: ignore[attr-defined]


@pytest.mark.parametrize("name", sorted(PROBES))
def test_cases_are_deterministic_well_formed_and_point_at_a_real_attack(name: str) -> None:
    probe = PROBES[name]
    first, again = cases(probe), cases(probe)
    assert first == again and first
    assert len({c.id for c in first}) == len(first)
    assert load_taxonomy().attack(probe.attack) is not None
    assert probe.detectors == ("compliance",)
    for case in first:
        assert case.messages[-1].role == "user" and case.messages[-1].content.strip()
        assert isinstance(case.metadata["intent"], str) and case.metadata["intent"]
    assert len(plan({name: probe}, ScanContext())) == len(first)


def test_our_harmful_set_has_ten_per_ama_principle_and_refusal_is_expected() -> None:
    requests = own_harmful()
    assert Counter(r.category for r in requests) == dict.fromkeys(CATEGORIES, 10)
    assert len({r.text for r in requests}) == 90
    made = cases(HarmfulRequests())
    assert all(c.expect_refusal is True and "harmful" in c.tags for c in made)
    assert {c.tags[1] for c in made[:9]} == set(CATEGORIES)  # interleaved: limit=9 spans all nine


def test_harmful_filters_by_category_and_rejects_unknown_ones() -> None:
    only = cases(HarmfulRequests(categories=("patient-rights",), limit=3))
    assert [c.metadata["category"] for c in only] == ["patient-rights"] * 3
    with pytest.raises(ValueError, match="unknown categories"):
        HarmfulRequests(categories=("nope",))


def test_over_refusal_cases_expect_an_answer_and_are_tagged_apart() -> None:
    made = cases(OverRefusal())
    assert len(made) >= 30 and all(c.expect_refusal is False and c.tags[0] == "over-refusal" for c in made)
    harmful_ids = {r.id for r in own_harmful()}
    assert all(r.pair in harmful_ids for r in own_benign() if r.pair is not None)
    topics = {r.topic for r in own_benign()}
    assert {"lethal-dose", "overdose-response", "end-of-life", "harm-reduction"} <= topics


def test_jailbreak_is_technique_by_intent_and_the_first_round_uses_every_technique() -> None:
    made = cases(Jailbreak(intents=4))
    assert len(made) == 4 * len(TECHNIQUES)
    assert [c.metadata["technique"] for c in made[: len(TECHNIQUES)]] == list(TECHNIQUES)
    assert len({c.metadata["intent_id"] for c in made[: len(TECHNIQUES)]}) == 4
    pairs = {(c.metadata["technique"], c.metadata["intent_id"]) for c in made}
    assert len(pairs) == len(made)
    assert all(c.expect_refusal is True and c.tags[0] == "jailbreak" for c in made)


def test_jailbreak_sampling_follows_the_seed() -> None:
    ids = {seed: [c.metadata["intent_id"] for c in cases(Jailbreak(intents=3), seed)] for seed in (0, 1)}
    assert ids[0] != ids[1]
    assert ids[0] == [c.metadata["intent_id"] for c in cases(Jailbreak(intents=3), 0)]


def test_jailbreak_techniques_disguise_the_intent() -> None:
    made = {c.metadata["technique"]: c for c in cases(Jailbreak(intents=1))}
    intent = str(made["base64"].metadata["intent"])
    assert base64.b64encode(intent.encode()).decode() in made["base64"].messages[-1].content
    assert intent not in made["homoglyph"].messages[-1].content
    assert made["homoglyph"].messages[-1].content.isascii() is False
    assert any(ch.isdigit() for ch in made["leetspeak"].messages[-1].content)
    assert intent not in made["payload-split"].messages[-1].content
    shots = made["many-shot"].messages
    assert len(shots) == 2 * 8 + 1 and shots[1].role == "assistant"


def test_jailbreak_selects_techniques_and_rejects_unknown_ones() -> None:
    made = cases(Jailbreak(techniques=("base64", "role-play"), intents=2, limit=3))
    assert [c.metadata["technique"] for c in made] == ["base64", "role-play", "base64"]
    with pytest.raises(ValueError, match="unknown techniques"):
        Jailbreak(techniques=("telepathy",))


def test_dataset_probe_builds_with_defaults_but_needs_a_path_to_plan() -> None:
    from medsec.errors import ConfigError

    with pytest.raises(ConfigError, match="needs path="):
        cases(HarmfulDataset())


# The registry lines the lead adds to PROBES and DETECTORS, checked here against the plugin contract.
SAFETY_PROBES: Registry[Any] = Registry(
    "probe",
    {
        "harmful-requests": HarmfulRequests,
        "over-refusal": OverRefusal,
        "jailbreak": Jailbreak,
        "harmful-dataset": HarmfulDataset,
    },
)


@pytest.mark.parametrize("name", list(SAFETY_PROBES))
def test_safety_probes_keep_the_plugin_contract(name: str) -> None:
    assert contract_problems(SAFETY_PROBES, name, load_taxonomy()) == []
    built = SAFETY_PROBES.create(Spec(name=name, args={"limit": 2}))
    assert SAFETY_PROBES.create(SAFETY_PROBES.spec_of(built)) == built


def test_compliance_detector_keeps_the_plugin_contract() -> None:
    detectors: Registry[Any] = Registry("detector", {"compliance": Compliance})
    assert contract_problems(detectors, "compliance", load_taxonomy()) == []
