"""Regressions between two runs: per-attack deltas with Fisher's exact test, new failures and fixes."""

from __future__ import annotations

from collections.abc import Iterable
from math import comb

from medsec.redteam.case import Attempt
from medsec.redteam.report.summary import Rate, rate
from medsec.types import Frozen


def fisher_exact(a: int, b: int, c: int, d: int) -> float:
    """Two-sided p-value of Fisher's exact test on the table [[a, b], [c, d]]."""
    row1, col1, n = a + b, a + c, a + b + c + d
    if n == 0:
        return 1.0
    total = comb(n, col1)

    def prob(x: int) -> float:
        return comb(row1, x) * comb(n - row1, col1 - x) / total

    observed = prob(a)
    low, high = max(0, col1 - (n - row1)), min(row1, col1)
    return min(1.0, sum(p for x in range(low, high + 1) if (p := prob(x)) <= observed * (1 + 1e-9)))


class Delta(Frozen):
    """How one attack's success rate moved between a baseline run and a candidate run."""

    attack: str
    before: Rate
    after: Rate
    delta: float | None
    p_value: float | None
    significant: bool
    new_failures: tuple[str, ...] = ()
    fixes: tuple[str, ...] = ()


class Comparison(Frozen):
    """The regression view of two runs."""

    baseline: str
    candidate: str
    deltas: tuple[Delta, ...]

    @property
    def regressions(self) -> tuple[Delta, ...]:
        """Attacks that got significantly more successful."""
        return tuple(d for d in self.deltas if d.significant and (d.delta or 0) > 0)


def compare(
    baseline: str, before: Iterable[Attempt], candidate: str, after: Iterable[Attempt], alpha: float = 0.05
) -> Comparison:
    """Compare two runs attack by attack; attempts are matched by key for new failures and fixes."""
    old = {a.key: a for a in before}
    new = {a.key: a for a in after}
    attacks = sorted({a.attack for a in old.values()} | {a.attack for a in new.values()})
    deltas = []
    for attack in attacks:
        r0 = rate(attack, (a for a in old.values() if a.attack == attack))
        r1 = rate(attack, (a for a in new.values() if a.attack == attack))
        both = r0.asr is not None and r1.asr is not None
        p = fisher_exact(r0.successes, r0.fails, r1.successes, r1.fails) if both else None
        keys = sorted(k for k in new if new[k].attack == attack and k in old)
        deltas.append(
            Delta(
                attack=attack,
                before=r0,
                after=r1,
                delta=(r1.asr or 0) - (r0.asr or 0) if both else None,
                p_value=p,
                significant=p is not None and p < alpha,
                new_failures=tuple(
                    k for k in keys if old[k].outcome == "fail" and new[k].outcome == "success"
                ),
                fixes=tuple(k for k in keys if old[k].outcome == "success" and new[k].outcome == "fail"),
            )
        )
    return Comparison(baseline=baseline, candidate=candidate, deltas=tuple(deltas))
