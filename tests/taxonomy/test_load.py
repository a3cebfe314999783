from __future__ import annotations

import shutil
from pathlib import Path

import pytest
import yaml

from medsec.errors import TaxonomyError
from medsec.taxonomy import default_data_dir, load_taxonomy

REQUIRED_DEFENSES = {
    "phi-deidentification",
    "differential-privacy",
    "access-control",
    "injection-detection",
    "spotlighting",
    "retrieval-provenance",
    "retrieval-poisoning-detection",
    "output-verification",
    "grounding-check",
    "self-consistency",
    "safety-alignment",
    "rate-limiting",
    "audit-logging",
    "human-review",
    "artifact-integrity",
    "continuous-red-teaming",
}


@pytest.fixture
def data(tmp_path: Path) -> Path:
    """A writable copy of the shipped taxonomy."""
    return Path(shutil.copytree(default_data_dir(), tmp_path / "data"))


def edit(path: Path, change: object) -> None:
    items = yaml.safe_load(path.read_text(encoding="utf-8"))
    change(items)  # type: ignore[operator]
    path.write_text(yaml.safe_dump(items, sort_keys=False), encoding="utf-8")


def test_shipped_taxonomy_is_complete() -> None:
    tax = load_taxonomy()
    assert [o.id for o in tax.objectives] == ["privacy", "safety", "integrity", "reliability"]
    assert [c.id for c in tax.capabilities] == ["A0", "A1", "A2", "A3", "A4", "A5"]
    assert [s.id for s in tax.stages] == ["training", "alignment", "inference", "deployment"]
    assert len(tax.attacks) >= 25
    assert len(tax.defenses) >= 15
    assert {d.id for d in tax.defenses} >= REQUIRED_DEFENSES
    for objective in tax.objectives:
        assert any(a.objectives[0] == objective.id for a in tax.attacks), objective.id


# Attacks that no MITRE ATLAS technique honestly describes; adding one here is a reviewed decision.
NO_ATLAS_TECHNIQUE = {"log-phi-exposure", "demographic-bias", "multi-turn-drift"}


def test_every_attack_is_anchored_and_evidenced() -> None:
    tax = load_taxonomy()
    for attack in tax.attacks:
        assert {r.edition for r in attack.refs.owasp} == {"2025", "2026"}, f"{attack.id}: OWASP editions"
        assert bool(attack.refs.atlas) != (attack.id in NO_ATLAS_TECHNIQUE), f"{attack.id}: ATLAS technique"
        assert all(e.year >= 2016 for e in attack.evidence)
    privacy = [a for a in tax.attacks if "privacy" in a.objectives]
    assert all(a.refs.hipaa for a in privacy if a.objectives[0] == "privacy")


def test_headline_papers_are_cited() -> None:
    cited = " ".join(e.source + " " + e.venue for a in load_taxonomy().attacks for e in a.evidence)
    for paper in ("Alber", "Han", "PoisonedRAG", "Clusmann", "RABBITS", "MedSafetyBench"):
        assert paper in cited, paper


def test_every_defense_mitigates_something() -> None:
    tax = load_taxonomy()
    for defense in tax.defenses:
        assert tax.mitigated_by(defense.id), defense.id


def test_dangling_defense_id_names_file_line_and_id(data: Path) -> None:
    path = data / "attacks" / "privacy.yaml"
    edit(path, lambda items: items[0]["defenses"].append("no-such-defense"))
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(data)
    message = str(info.value)
    assert str(path) in message
    assert "dangling defense id 'no-such-defense'" in message
    assert message.count("\n") == 0  # exactly the one problem


@pytest.mark.parametrize(
    ("field", "value", "expected"),
    [
        ("objectives", ["privacy", "secrecy"], "dangling objective id 'secrecy'"),
        ("introduced", ["compile-time"], "dangling stage id 'compile-time'"),
        ("capability", "A9", "dangling capability id 'A9'"),
    ],
)
def test_other_dangling_ids(data: Path, field: str, value: object, expected: str) -> None:
    edit(data / "attacks" / "privacy.yaml", lambda items: items[0].__setitem__(field, value))
    with pytest.raises(TaxonomyError, match=expected):
        load_taxonomy(data)


def test_unknown_framework_references(data: Path) -> None:
    def change(items: list[dict[str, object]]) -> None:
        refs = items[0]["refs"]
        assert isinstance(refs, dict)
        refs["atlas"] = ["AML.T9999"]
        refs["owasp"] = [{"edition": "2025", "risk": "Hidden Context Exposure"}]

    edit(data / "attacks" / "privacy.yaml", change)
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(data)
    assert "unknown MITRE ATLAS id 'AML.T9999'" in str(info.value)
    assert "unknown OWASP 2025 risk 'Hidden Context Exposure'" in str(info.value)  # a 2026-only name


def test_schema_error_names_file_line_field_and_id(data: Path) -> None:
    path = data / "attacks" / "privacy.yaml"
    edit(path, lambda items: items[0]["detection"].__setitem__("methods", ["telepathy"]))
    with pytest.raises(TaxonomyError) as info:
        load_taxonomy(data)
    message = str(info.value)
    assert f"{path}:" in message and "detection.methods.0" in message
    assert "(attack 'context-phi-extraction')" in message


def test_duplicate_ids_across_files(data: Path) -> None:
    first = yaml.safe_load((data / "attacks" / "privacy.yaml").read_text(encoding="utf-8"))[0]
    edit(data / "attacks" / "safety.yaml", lambda items: items.append(first))
    with pytest.raises(TaxonomyError, match="duplicate id 'context-phi-extraction'"):
        load_taxonomy(data)


def test_orphan_defense_is_an_error(data: Path) -> None:
    def change(items: list[dict[str, object]]) -> None:
        orphan = dict(items[0])
        orphan["id"] = "orphan-defense"
        items.append(orphan)

    edit(data / "defenses.yaml", change)
    with pytest.raises(TaxonomyError, match="defense 'orphan-defense' mitigates no attack"):
        load_taxonomy(data)


def test_missing_pieces(data: Path, tmp_path: Path) -> None:
    (data / "frameworks.yaml").unlink()
    with pytest.raises(TaxonomyError, match="frameworks.yaml: no such file"):
        load_taxonomy(data)
    with pytest.raises(TaxonomyError, match="taxonomy directory not found"):
        load_taxonomy(tmp_path / "nowhere")
