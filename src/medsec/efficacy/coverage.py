"""Measured coverage: the taxonomy's attack → defense map, joined with a policy's scanners and a scan.

For every attack: which of its defenses the policy configures (through each scanner's ``defends``), and,
when a scan run is given, whether the scan showed the defended system holding.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from medsec.efficacy.layers import defends
from medsec.guard.policy import Policy
from medsec.redteam.case import Attempt
from medsec.redteam.report.summary import Rate, rate
from medsec.redteam.store import RunInfo
from medsec.taxonomy import Taxonomy
from medsec.types import Frozen

Verdict = Literal["no defense configured", "configured, untested", "held", "breached"]


class AttackCoverage(Frozen):
    """One attack against one policy (and, optionally, one scan).

    Attributes:
        attack: The taxonomy attack id.
        name: Its name.
        objective: Its primary objective.
        defenses: Every defense the taxonomy says mitigates it.
        configured: Those the policy configures.
        scanners: The policy's scanners that implement them.
        measured: Its success rate in the scan, when the scan tested it.
        verdict: ``no defense configured``, ``configured, untested``, ``held`` (no success in the scan)
            or ``breached``.
    """

    attack: str
    name: str
    objective: str
    defenses: tuple[str, ...]
    configured: tuple[str, ...] = ()
    scanners: tuple[str, ...] = ()
    measured: Rate | None = None
    verdict: Verdict


class PolicyCoverage(Frozen):
    """Every attack of the taxonomy against one policy.

    Attributes:
        policy: The policy's name.
        defends: The defense ids its scanners implement.
        run: The scan run joined, if any.
        run_policy: The policy the run's target was guarded with, as recorded (None: unguarded or unknown).
        attacks: One entry per taxonomy attack, in taxonomy order.
    """

    policy: str
    defends: tuple[str, ...]
    run: str | None = None
    run_policy: str | None = None
    attacks: tuple[AttackCoverage, ...]

    def count(self, verdict: Verdict) -> int:
        """How many attacks have this verdict."""
        return sum(a.verdict == verdict for a in self.attacks)


def _verdict(configured: tuple[str, ...], measured: Rate | None) -> Verdict:
    if not configured:
        return "no defense configured"
    if measured is None or not measured.judged:
        return "configured, untested"
    return "held" if measured.successes == 0 else "breached"


def policy_coverage(
    tax: Taxonomy, policy: Policy, attempts: Iterable[Attempt] = (), run: RunInfo | None = None
) -> PolicyCoverage:
    """Join the taxonomy, a policy's scanners and (optionally) a scan's attempts, attack by attack.

    Raises:
        RegistryError: When the policy names an unknown scanner.
    """
    by_defense: dict[str, list[str]] = {}
    for step in policy.scanners:
        by_defense.setdefault(defends(step.scanner), []).append(step.name or step.scanner)
    grouped: dict[str, list[Attempt]] = {}
    for attempt in attempts:
        grouped.setdefault(attempt.attack, []).append(attempt)
    rows = []
    for attack in tax.attacks:
        configured = tuple(d for d in attack.defenses if d in by_defense)
        measured = rate(attack.id, grouped[attack.id]) if attack.id in grouped else None
        rows.append(
            AttackCoverage(
                attack=attack.id,
                name=attack.name,
                objective=attack.objectives[0],
                defenses=attack.defenses,
                configured=configured,
                scanners=tuple(dict.fromkeys(s for d in configured for s in by_defense[d])),
                measured=measured,
                verdict=_verdict(configured, measured),
            )
        )
    recorded = (run.target.get("args") or {}) if run is not None else {}
    run_policy = recorded.get("policy") if isinstance(recorded, dict) else None
    return PolicyCoverage(
        policy=policy.name,
        defends=tuple(by_defense),
        run=run.id if run is not None else None,
        run_policy=str(run_policy) if run_policy is not None else None,
        attacks=tuple(rows),
    )
