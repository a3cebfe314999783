from __future__ import annotations

import pytest

from medsec.errors import TaxonomyError
from medsec.taxonomy import load_taxonomy
from medsec.taxonomy.query import coverage, filter_attacks


def test_filters_compose() -> None:
    tax = load_taxonomy()
    privacy = filter_attacks(tax, objective="privacy")
    assert privacy and all("privacy" in a.objectives for a in privacy)
    low = filter_attacks(tax, max_capability="A1")
    assert low and all(a.capability in {"A0", "A1"} for a in low)
    exact = filter_attacks(tax, capability="A2", stage="deployment")
    assert exact and all(a.capability == "A2" for a in exact)
    assert all("deployment" in a.introduced + a.exploited for a in exact)
    assert filter_attacks(tax) == tax.attacks


@pytest.mark.parametrize(
    "kwargs", [{"objective": "secrecy"}, {"stage": "later"}, {"capability": "A7"}, {"max_capability": "root"}]
)
def test_unknown_filter_values_list_the_choices(kwargs: dict[str, str]) -> None:
    with pytest.raises(TaxonomyError, match="choose one of"):
        filter_attacks(load_taxonomy(), **kwargs)


def test_coverage_splits_every_attack_once() -> None:
    tax = load_taxonomy()
    result = coverage(tax, ["phi-deidentification", "access-control"])
    covered = {a for o in result.objectives for a in o.covered}
    assert covered | set(result.uncovered) == {a.id for a in tax.attacks}
    assert not covered & set(result.uncovered)
    for attack_id in covered:
        attack = tax.attack(attack_id)
        assert attack is not None and {"phi-deidentification", "access-control"} & set(attack.defenses)


def test_all_defenses_cover_everything_and_none_covers_nothing() -> None:
    tax = load_taxonomy()
    assert coverage(tax, [d.id for d in tax.defenses]).uncovered == ()
    assert len(coverage(tax, []).uncovered) == len(tax.attacks)


def test_coverage_rejects_unknown_defenses() -> None:
    with pytest.raises(TaxonomyError, match="unknown defense id"):
        coverage(load_taxonomy(), ["firewall"])
