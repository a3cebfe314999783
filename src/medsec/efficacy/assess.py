"""The assessment: a pure function of stored runs — what each configuration buys and what it costs.

Buys: the reduction in attack success against the undefended baseline, per attack, with Newcombe's 95%
interval of the difference of two proportions (see :mod:`medsec.efficacy.stats`). Costs: false refusals
of benign questions, change in answer accuracy (Newcombe again) and the latency added per request.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping, Sequence
from typing import Literal

from pydantic import Field

from medsec.efficacy.grade import Grade, grade
from medsec.efficacy.layers import Layer
from medsec.efficacy.stats import Difference, Proportion, newcombe, percentile, proportion
from medsec.redteam.case import Attempt
from medsec.redteam.report.compare import fisher_exact
from medsec.redteam.report.summary import Rate, rate
from medsec.taxonomy import Taxonomy
from medsec.types import Frozen


class Arm(Frozen):
    """One evaluated configuration and the stored runs that hold its evidence."""

    layer: Layer
    attack_run: str
    benign_run: str | None = None


class Cell(Frozen):
    """One attack under one configuration: its success rate and the reduction against the baseline.

    Attributes:
        attack: The taxonomy attack id.
        layer: The configuration's name.
        rate: Attack success under the configuration (Wilson 95% interval).
        reduction: Baseline ASR minus this ASR, with Newcombe's 95% interval.
        p_value: Fisher's exact test of the two rates.
    """

    attack: str
    layer: str
    rate: Rate
    reduction: Difference = Difference()
    p_value: float | None = None


class SetUtility(Frozen):
    """One benign set under one configuration.

    Attributes:
        source: The set.
        kind: How it is graded (``facts``, ``mcq``, ``yesno``, ``open``: refusals only).
        errors: Questions the target failed on (not counted below).
        false_refusals: Questions blocked or refused, out of those answered.
        blocked: Of those, how many the guard blocked.
        accuracy: Right answers (a blocked answer is wrong); None for ``open`` sets.
        accuracy_change: This accuracy minus the baseline's, with Newcombe's 95% interval.
    """

    source: str
    kind: str
    errors: int = 0
    false_refusals: Proportion = Proportion()
    blocked: int = 0
    accuracy: Proportion | None = None
    accuracy_change: Difference | None = None


class Latency(Frozen):
    """End-to-end seconds per request (benign requests; attack requests when there are none)."""

    requests: int = 0
    median_s: float | None = None
    p95_s: float | None = None
    added_median_s: float | None = None
    added_p95_s: float | None = None


class LayerResult(Frozen):
    """Everything measured for one configuration."""

    layer: Layer
    attack_run: str
    benign_run: str | None = None
    asr: Rate
    reduction: Difference = Difference()
    p_value: float | None = None
    false_refusals: Proportion = Proportion()
    accuracy: Proportion = Proportion()
    accuracy_change: Difference = Difference()
    by_set: tuple[SetUtility, ...] = ()
    latency: Latency = Latency()
    blocked_by: dict[str, int] = Field(default_factory=dict)


class Unmitigated(Frozen):
    """An attack that still succeeded under every complete policy evaluated (or undefended, if none)."""

    attack: str
    name: str
    successes: int
    judged: int
    best: str
    defenses: tuple[str, ...] = ()


class EfficacyResult(Frozen):
    """The whole evaluation: per configuration, per attack, per benign set; JSON-stable (schema 1)."""

    schema_version: Literal[1] = 1
    created_at: str
    baseline: str | None = None
    layers: tuple[LayerResult, ...]
    attacks: tuple[str, ...] = ()
    matrix: tuple[Cell, ...] = ()
    unmitigated: tuple[Unmitigated, ...] = ()
    notes: tuple[str, ...] = ()


def _compare(before: Rate | None, after: Rate) -> tuple[Difference, float | None]:
    if before is None or not before.judged or not after.judged:
        return Difference(), None
    diff = newcombe((before.successes, before.judged), (after.successes, after.judged))
    return diff, fisher_exact(before.successes, before.fails, after.successes, after.fails)


def _accuracy(grades: Sequence[Grade]) -> Proportion:
    graded = [g for g in grades if g.correct is not None]
    return proportion(sum(bool(g.correct) for g in graded), len(graded))


def _change(before: Proportion | None, after: Proportion) -> Difference:
    if before is None or not before.total or not after.total:
        return Difference()
    return newcombe((after.hits, after.total), (before.hits, before.total))


def _sets(attempts: Sequence[Attempt], base: Mapping[str, SetUtility]) -> tuple[SetUtility, ...]:
    by_source: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        by_source.setdefault(str(attempt.case.metadata.get("source", attempt.probe)), []).append(attempt)
    out = []
    for source, items in sorted(by_source.items()):
        grades = [g for a in items if (g := grade(a)) is not None]
        kind = str(items[0].case.metadata.get("kind", "open"))
        accuracy = _accuracy(grades) if kind != "open" else None
        before = base.get(source)
        change = _change(before.accuracy if before else None, accuracy) if accuracy else None
        out.append(
            SetUtility(
                source=source,
                kind=kind,
                errors=len(items) - len(grades),
                false_refusals=proportion(sum(g.refused for g in grades), len(grades)),
                blocked=sum(g.blocked for g in grades),
                accuracy=accuracy,
                accuracy_change=change,
            )
        )
    return tuple(out)


def _minus(value: float | None, base: float | None) -> float | None:
    return None if value is None or base is None else value - base


def _latency(attempts: Sequence[Attempt], base: Latency | None) -> Latency:
    seconds = [r.latency_s for a in attempts for r in a.replies]
    median, p95 = percentile(seconds, 50), percentile(seconds, 95)
    return Latency(
        requests=len(seconds),
        median_s=median,
        p95_s=p95,
        added_median_s=_minus(median, base.median_s) if base else None,
        added_p95_s=_minus(p95, base.p95_s) if base else None,
    )


def _layer(arm: Arm, runs: Mapping[str, Sequence[Attempt]], base: LayerResult | None) -> LayerResult:
    attacks, benign = runs.get(arm.attack_run, ()), runs.get(arm.benign_run or "", ())
    overall = rate("all", attacks)
    reduction, p_value = _compare(base.asr if base else None, overall)
    grades = [g for a in benign if (g := grade(a)) is not None]
    accuracy = _accuracy(grades)
    return LayerResult(
        layer=arm.layer,
        attack_run=arm.attack_run,
        benign_run=arm.benign_run,
        asr=overall,
        reduction=reduction,
        p_value=p_value,
        false_refusals=proportion(sum(g.refused for g in grades), len(grades)),
        accuracy=accuracy,
        accuracy_change=_change(base.accuracy if base else None, accuracy),
        by_set=_sets(benign, {s.source: s for s in base.by_set} if base else {}),
        latency=_latency(benign or attacks, base.latency if base else None),
        blocked_by=dict(Counter(s for g in grades for s in g.blockers)),
    )


def _cells(arms: Sequence[Arm], runs: Mapping[str, Sequence[Attempt]], attacks: Sequence[str]) -> list[Cell]:
    base_arm = next((a for a in arms if a.layer.kind == "baseline"), None)
    cells = []
    for attack in attacks:
        before = (
            rate(attack, (x for x in runs.get(base_arm.attack_run, ()) if x.attack == attack))
            if base_arm
            else None
        )
        for arm in arms:
            after = rate(attack, (x for x in runs.get(arm.attack_run, ()) if x.attack == attack))
            diff, p = _compare(before, after) if arm is not base_arm else (Difference(), None)
            cells.append(Cell(attack=attack, layer=arm.layer.name, rate=after, reduction=diff, p_value=p))
    return cells


def _unmitigated(arms: Sequence[Arm], cells: Sequence[Cell], tax: Taxonomy) -> list[Unmitigated]:
    complete = {a.layer.name for a in arms if a.layer.kind == "all"} or {
        a.layer.name for a in arms if a.layer.kind == "baseline"
    }
    out = []
    for attack in dict.fromkeys(c.attack for c in cells):
        under = [c for c in cells if c.attack == attack and c.layer in complete and c.rate.judged]
        if under and all(c.rate.successes > 0 for c in under):
            best = min(under, key=lambda c: c.rate.asr or 0.0)
            known = tax.attack(attack)
            out.append(
                Unmitigated(
                    attack=attack,
                    name=known.name if known else attack,
                    successes=best.rate.successes,
                    judged=best.rate.judged,
                    best=best.layer,
                    defenses=known.defenses if known else (),
                )
            )
    return out


def assess(
    arms: Sequence[Arm],
    runs: Mapping[str, Sequence[Attempt]],
    tax: Taxonomy,
    *,
    created_at: str,
    notes: Sequence[str] = (),
) -> EfficacyResult:
    """Assess stored runs: per configuration and per attack, against the undefended baseline if any.

    Args:
        arms: The configurations and their run ids (the baseline, if any, among them).
        runs: Run id → its stored attempts.
        tax: The taxonomy (attack names and defenses).
        created_at: When the assessment was made (recorded, not read from a clock here).
        notes: Remarks to carry into the report.
    """
    base_arm = next((a for a in arms if a.layer.kind == "baseline"), None)
    base = _layer(base_arm, runs, None) if base_arm else None
    results = [base if arm is base_arm and base else _layer(arm, runs, base) for arm in arms]
    attacks = sorted({x.attack for a in arms for x in runs.get(a.attack_run, ())})
    cells = _cells(arms, runs, attacks)
    return EfficacyResult(
        created_at=created_at,
        baseline=base_arm.layer.name if base_arm else None,
        layers=tuple(results),
        attacks=tuple(attacks),
        matrix=tuple(cells),
        unmitigated=tuple(_unmitigated(arms, cells, tax)),
        notes=tuple(notes),
    )
