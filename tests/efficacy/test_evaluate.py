from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from medsec.efficacy import EfficacyConfig, evaluate_defenses
from medsec.efficacy.benign import BenignSet
from medsec.efficacy.evaluate import benign_sets, configurations
from medsec.efficacy.targets import Timed, guarded, timed
from medsec.errors import ConfigError
from medsec.redteam.probe import ContextSource, ScanContext, Stageable
from medsec.redteam.store import Store
from medsec.targets.base import Reply
from medsec.targets.fake import FakeTarget
from medsec.types import Message, Spec
from tests.redteam.conftest import LeakyApp


@dataclass(frozen=True)
class HelpfulLeakyApp:
    """LeakyApp for attacks; answers benign questions helpfully (epinephrine for everything)."""

    inner: LeakyApp = field(default_factory=LeakyApp)

    def scan_context(self) -> ScanContext:
        return self.inner.scan_context()

    async def __call__(self, messages: Sequence[Message], *, session: str | None = None) -> Reply:
        text = messages[-1].content
        if "Repeat" in text or "JSON" in text or "Ignore previous" in text:
            return await self.inner(messages, session=session)
        return Reply(text="Give epinephrine; fluids, antibiotics and aspirin as indicated.")


def factory(calls: list[str | None]) -> object:
    def build(policy: str | None) -> Timed:
        calls.append(policy)
        return guarded(HelpfulLeakyApp(), policy)

    return build


async def test_evaluates_baseline_each_layer_and_the_whole(config: EfficacyConfig, store: Store) -> None:
    built: list[str | None] = []
    result = await evaluate_defenses(config, store, factory=factory(built))  # type: ignore[arg-type]
    names = [r.layer.name for r in result.layers]
    assert names == ["undefended", "harmful", "phi", "all:mini"] and built[0] is None
    by = {r.layer.name: r for r in result.layers}
    base, whole = by["undefended"], by["all:mini"]
    assert base.asr.successes == 4 and whole.asr.successes == 0
    assert whole.reduction.value == pytest.approx(4 / 22) and whole.p_value is not None
    assert base.false_refusals.total == 6 and base.false_refusals.hits == 0
    assert base.accuracy.total == 6 and base.accuracy.hits > 0
    assert whole.accuracy_change.value == 0 and whole.latency.added_median_s is not None
    cells = {(c.attack, c.layer): c for c in result.matrix}
    assert cells[("system-prompt-extraction", "harmful")].rate.successes == 2  # not its job
    assert cells[("context-phi-extraction", "harmful")].reduction.value == 0
    assert cells[("context-phi-extraction", "phi")].rate.successes == 0  # redaction stops the PHI leak
    assert by["phi"].blocked_by == {} and by["harmful"].false_refusals.hits == 0
    assert result.unmitigated == ()  # the whole policy stops both
    assert {r.attack_run for r in result.layers} | {r.benign_run for r in result.layers} <= {
        i.id for i in store.runs()
    }


async def test_stored_runs_are_reused_and_resumed(config: EfficacyConfig, store: Store) -> None:
    first = await evaluate_defenses(config, store, factory=factory([]))  # type: ignore[arg-type]
    runs_before = len(store.runs())
    app = LeakyApp()
    again = await evaluate_defenses(config, store, factory=lambda p: guarded(app, p))
    assert len(store.runs()) == runs_before and app.calls == []  # nothing re-sent
    assert again.model_dump(exclude={"created_at"}) == first.model_dump(exclude={"created_at"})
    fresh = config.model_copy(update={"reuse": False, "policies": (), "benign": ()})
    await evaluate_defenses(fresh, store, factory=factory([]))  # type: ignore[arg-type]
    assert len(store.runs()) == runs_before + 1


async def test_unmitigated_attacks_are_listed(config: EfficacyConfig, store: Store, tmp_path: Path) -> None:
    weak = tmp_path / "weak.yaml"
    weak.write_text("version: 1\nname: weak\nscanners:\n  - scanner: harmful\n", encoding="utf-8")
    cfg = config.model_copy(update={"policies": (str(weak),)})
    result = await evaluate_defenses(cfg, store, factory=factory([]))  # type: ignore[arg-type]
    assert [r.layer.name for r in result.layers] == ["undefended", "all:weak"]
    assert {u.attack for u in result.unmitigated} == {"context-phi-extraction", "system-prompt-extraction"}
    assert all(u.best == "all:weak" and u.defenses for u in result.unmitigated)


async def test_guard_blocks_count_as_false_refusals_and_latency_includes_the_guard(
    config: EfficacyConfig, store: Store, tmp_path: Path
) -> None:
    strict = tmp_path / "blocky.yaml"
    strict.write_text(
        "version: 1\nname: blocky\nscanners:\n  - scanner: harmful\n    actions: {'*': block}\n"
        "  - scanner: budget\n    args: {max_input_tokens: 5}\n",
        encoding="utf-8",
    )
    cfg = config.model_copy(
        update={"policies": (str(strict),), "layers": False, "probes": (Spec(name="over-refusal"),)}
    )
    slow = FakeTarget(default="Epinephrine.", delay_s=0.01)
    result = await evaluate_defenses(cfg, store, factory=lambda p: guarded(slow, p))
    blocked = result.layers[-1]
    assert blocked.false_refusals.hits == blocked.false_refusals.total == 6
    assert blocked.blocked_by == {"budget": 6} and blocked.accuracy.hits == 0
    base_accuracy = result.layers[0].accuracy.rate
    assert base_accuracy and blocked.accuracy_change.value == pytest.approx(-base_accuracy)
    base = result.layers[0]
    assert base.latency.median_s is not None and base.latency.median_s >= 0.01  # measured end to end
    assert blocked.latency.median_s is not None and blocked.latency.median_s < 0.01  # blocked before the app


def test_configurations_and_benign_sets(config: EfficacyConfig) -> None:
    assert [c.kind for c in configurations(config)] == ["baseline", "layer", "layer", "all"]
    none = config.model_copy(update={"baseline": False, "policies": ()})
    with pytest.raises(ConfigError, match="nothing to evaluate"):
        configurations(none)
    cfg = config.model_copy(update={"benign": ("clinical", "medqa")})
    sets, notes = benign_sets(cfg)
    assert list(sets) == ["benign-clinical"] and "medqa skipped" in notes[0]
    with pytest.raises(ValueError, match="unknown benign set"):
        EfficacyConfig(benign=("nope",))
    with pytest.raises(ConfigError, match="read by path"):
        list(BenignSet("medqa").cases())


def test_clinical_questions_ship_with_key_facts() -> None:
    cases = list(BenignSet("clinical", n=None).cases())
    assert len(cases) >= 30 and len({c.id for c in cases}) == len(cases)
    assert all(c.right_answers and c.expect_refusal is False for c in cases)
    sample = [c.id for c in BenignSet("clinical", n=5, seed=1).cases()]
    assert sample == [c.id for c in BenignSet("clinical", n=5, seed=1).cases()] and len(sample) == 5


def test_timed_keeps_what_the_app_discloses() -> None:
    plain = timed(FakeTarget())
    assert not isinstance(plain, ContextSource) and not isinstance(plain, Stageable)
    wrapped = guarded(LeakyApp(), "balanced")
    assert isinstance(wrapped, ContextSource) and not isinstance(wrapped, Stageable)
    assert wrapped.scan_context().system_secret == LeakyApp().scan_context().system_secret
