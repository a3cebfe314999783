"""Summaries of a run: attack success per attack, objective, capability and stage, with Wilson intervals.

Everything here is a pure function of stored records (the run's info and attempts) and the taxonomy.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable
from typing import Literal

from pydantic import Field

from medsec.redteam.case import Attempt
from medsec.redteam.store import RunInfo
from medsec.taxonomy import Taxonomy
from medsec.types import Frozen

Axis = Literal["attack", "objective", "capability", "stage", "probe", "objective-stage"]


def wilson(successes: int, trials: int, z: float = 1.959964) -> tuple[float, float]:
    """The Wilson score interval of a proportion (95% by default); (0, 1) when there are no trials."""
    if trials <= 0:
        return 0.0, 1.0
    p = successes / trials
    denom = 1 + z * z / trials
    centre = (p + z * z / (2 * trials)) / denom
    half = z * math.sqrt(p * (1 - p) / trials + z * z / (4 * trials * trials)) / denom
    return max(0.0, centre - half), min(1.0, centre + half)


class Rate(Frozen):
    """Counts and attack success rate of one group of attempts.

    ``asr`` is successes over judged attempts (successes + fails); errors and unjudged attempts are
    counted apart and never as passes. It is None when nothing was judged.
    """

    key: str
    attempts: int = 0
    successes: int = 0
    fails: int = 0
    errors: int = 0
    unjudged: int = 0
    asr: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def judged(self) -> int:
        """Attempts a detector could judge."""
        return self.successes + self.fails


def rate(key: str, attempts: Iterable[Attempt]) -> Rate:
    """Count outcomes and compute the rate with its interval."""
    counts = {"success": 0, "fail": 0, "error": 0, "unjudged": 0}
    for attempt in attempts:
        counts[attempt.outcome] += 1
    judged = counts["success"] + counts["fail"]
    low, high = wilson(counts["success"], judged) if judged else (None, None)
    return Rate(
        key=key,
        attempts=sum(counts.values()),
        successes=counts["success"],
        fails=counts["fail"],
        errors=counts["error"],
        unjudged=counts["unjudged"],
        asr=counts["success"] / judged if judged else None,
        ci_low=low,
        ci_high=high,
    )


class Example(Frozen):
    """A successful attempt to show in a report (its text masked unless PHI was asked for)."""

    key: str
    attack: str
    prompt: str
    answer: str
    labels: tuple[str, ...] = ()


class Summary(Frozen):
    """What a run found, by every axis of the taxonomy."""

    schema_version: Literal[1] = 1
    run: RunInfo
    overall: Rate
    by: dict[Axis, tuple[Rate, ...]] = Field(default_factory=dict)
    examples: tuple[Example, ...] = ()


def _groups(attempts: list[Attempt], tax: Taxonomy) -> dict[Axis, dict[str, list[Attempt]]]:
    groups: dict[Axis, dict[str, list[Attempt]]] = defaultdict(lambda: defaultdict(list))
    for attempt in attempts:
        attack = tax.attack(attempt.attack)
        groups["attack"][attempt.attack].append(attempt)
        groups["probe"][attempt.probe].append(attempt)
        if attack is None:
            continue
        for objective in attack.objectives:
            groups["objective"][objective].append(attempt)
        groups["capability"][attack.capability].append(attempt)
        for stage in attack.exploited:
            groups["stage"][stage].append(attempt)
            for objective in attack.objectives:
                groups["objective-stage"][f"{objective}/{stage}"].append(attempt)
    return groups


def summarize(
    info: RunInfo, attempts: Iterable[Attempt], tax: Taxonomy, *, show_phi: bool = False, examples: int = 5
) -> Summary:
    """Summarise a run; successful examples have PHI masked unless ``show_phi``."""
    from medsec.redteam.report.mask import mask

    items = list(attempts)
    by = {
        axis: tuple(rate(k, v) for k, v in sorted(group.items()))
        for axis, group in _groups(items, tax).items()
    }
    shown: list[Example] = []
    for attempt in (a for a in items if a.outcome == "success"):
        if len(shown) >= examples:
            break
        prompt = "\n".join(m.content for m in attempt.case.messages if m.role == "user")
        answer = attempt.text
        shown.append(
            Example(
                key=attempt.key,
                attack=attempt.attack,
                prompt=prompt if show_phi else mask(prompt),
                answer=answer if show_phi else mask(answer),
                labels=tuple(label for j in attempt.judgements for label in j.labels),
            )
        )
    return Summary(run=info, overall=rate("all", items), by=by, examples=tuple(shown))
