from __future__ import annotations

from pathlib import Path

import pytest

from medsec.efficacy.layers import defends, layers, read_policy, split_policy, step_names
from medsec.errors import ConfigError
from medsec.guard.policy import load_policy
from medsec.guard.scanners import SCANNERS
from medsec.types import Spec


def test_each_step_alone_and_all_together(tmp_path: Path) -> None:
    found = layers("balanced", tmp_path)
    whole = read_policy("balanced")
    assert [c.name for c in found[:-1]] == list(step_names(whole))
    assert found[-1].name == "all:balanced" and found[-1].kind == "all"
    assert found[-1].scanners == tuple(s.scanner for s in whole.scanners)
    for layer in found[:-1]:
        assert layer.kind == "layer" and len(layer.scanners) == 1
        assert layer.policy is not None
        pipeline = load_policy(layer.policy)  # every derived file is a valid policy on its own
        assert [s.name for s in pipeline.steps] == [layer.name]
    dose = next(c for c in found if c.name == "dose")
    assert read_policy(dose.policy or "").scanners[0].actions == {  # the step's own settings survive
        "dose.route_unverified": "flag",
        "dose.interaction": "flag",
    }


def test_paths_are_stable_and_content_addressed(tmp_path: Path) -> None:
    assert layers("balanced", tmp_path) == layers("balanced", tmp_path)
    assert len({c.policy for c in layers("balanced", tmp_path)}) == 10


def test_defends_reads_each_scanner_without_building_it() -> None:
    for name in (n for n in SCANNERS if n != "provenance"):  # provenance needs a manifest to build
        assert defends(name) == SCANNERS.create(Spec(name=name)).defends
    assert defends("provenance") == "retrieval-provenance"


def test_fail_open_is_copied_into_each_step(tmp_path: Path) -> None:
    policy = tmp_path / "p.yaml"
    policy.write_text(
        "version: 1\nname: p\nfail_open: true\nscanners:\n  - scanner: harmful\n  - scanner: harmful\n"
        "    fail_open: false\n",
        encoding="utf-8",
    )
    split = split_policy(read_policy(policy))
    assert [n for n, _ in split] == ["harmful", "harmful#2"]
    assert [p.scanners[0].fail_open for _, p in split] == [True, False]
    assert [c.name for c in layers(policy, tmp_path / "out", alone=False)] == ["all:p"]


def test_single_step_policy_has_no_separate_layer(tmp_path: Path) -> None:
    path = tmp_path / "one.yaml"
    path.write_text("version: 1\nname: one\nscanners:\n  - scanner: phi\n", encoding="utf-8")
    assert [c.kind for c in layers(path, tmp_path / "out")] == ["all"]


def test_bad_policy_is_a_config_error(tmp_path: Path) -> None:
    with pytest.raises(ConfigError):
        layers(tmp_path / "missing.yaml", tmp_path)


async def test_evaluated_policies_lift_the_request_rate_but_keep_token_limits(
    tmp_path: Path,
) -> None:
    """A scan is one user sending hundreds of requests: a request budget would refuse the later attempts."""
    from medsec.guard.scanner import Context

    whole = next(c for c in layers("balanced", tmp_path) if c.kind == "all")
    budget = next(s for s in read_policy(whole.policy or "").scanners if s.scanner == "budget")
    assert budget.args["requests_per_minute"] == 0
    assert budget.args["max_input_tokens"] == read_policy("balanced").scanners[0].args["max_input_tokens"]
    pipeline = load_policy(whole.policy or "")
    outcomes = [await pipeline.run("input", f"question {i}", Context(user="scanner")) for i in range(80)]
    assert all(o.action != "block" for o in outcomes)
    shipped = load_policy("balanced")  # the shipped policy itself still limits a user
    blocked = [await shipped.run("input", f"question {i}", Context(user="scanner")) for i in range(80)]
    assert sum(o.action == "block" for o in blocked) == 20
