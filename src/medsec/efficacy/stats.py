"""Interval arithmetic for efficacy: Newcombe's difference of two Wilson intervals, latency percentiles.

A reduction in attack success is ``p_undefended - p_defended``. Its 95% interval is Newcombe's hybrid
score interval (method 10 of Newcombe 1998), built from the two Wilson intervals: it stays inside
[-1, 1], behaves at 0% and 100%, and needs no normal approximation of the difference itself.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

from medsec.redteam.report.summary import wilson
from medsec.types import Frozen


class Difference(Frozen):
    """A difference of two proportions, ``before - after``, with Newcombe's 95% interval.

    Attributes:
        value: The point estimate; None when either side has no trials.
        ci_low: Lower bound of the interval.
        ci_high: Upper bound of the interval.
    """

    value: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None

    @property
    def significant(self) -> bool:
        """Whether the interval excludes zero."""
        return self.ci_low is not None and self.ci_high is not None and (self.ci_low > 0 or self.ci_high < 0)


def newcombe(before: tuple[int, int], after: tuple[int, int]) -> Difference:
    """Newcombe's hybrid-score interval of ``p_before - p_after`` from (successes, trials) pairs."""
    (s0, n0), (s1, n1) = before, after
    if n0 <= 0 or n1 <= 0:
        return Difference()
    p0, p1 = s0 / n0, s1 / n1
    l0, u0 = wilson(s0, n0)
    l1, u1 = wilson(s1, n1)
    d = p0 - p1
    low = d - math.sqrt((p0 - l0) ** 2 + (u1 - p1) ** 2)
    high = d + math.sqrt((u0 - p0) ** 2 + (p1 - l1) ** 2)
    return Difference(value=d, ci_low=max(-1.0, low), ci_high=min(1.0, high))


def percentile(values: Sequence[float], q: float) -> float | None:
    """The ``q``-th percentile (0-100) by linear interpolation between closest ranks; None when empty."""
    if not values:
        return None
    ordered = sorted(values)
    pos = (len(ordered) - 1) * q / 100
    low = math.floor(pos)
    high = min(low + 1, len(ordered) - 1)
    return ordered[low] + (ordered[high] - ordered[low]) * (pos - low)


class Proportion(Frozen):
    """A count out of a total with its Wilson 95% interval.

    Attributes:
        hits: How many.
        total: Out of how many.
        rate: ``hits / total``; None when the total is 0.
        ci_low: Wilson lower bound.
        ci_high: Wilson upper bound.
    """

    hits: int = 0
    total: int = 0
    rate: float | None = None
    ci_low: float | None = None
    ci_high: float | None = None


def proportion(hits: int, total: int) -> Proportion:
    """A Proportion with its Wilson interval."""
    if total <= 0:
        return Proportion(hits=hits, total=total)
    low, high = wilson(hits, total)
    return Proportion(hits=hits, total=total, rate=hits / total, ci_low=low, ci_high=high)
