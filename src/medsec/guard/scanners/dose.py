"""Output verification: dose claims checked against the dosing table; interacting pairs without caution."""

from __future__ import annotations

from dataclasses import dataclass, field
from functools import cache

from medsec.clinic.dosing import DosingTable
from medsec.guard.claims import check, dose_claims, interactions, table
from medsec.guard.scanner import Action, Channel, Context, Verdict, verdict


@cache
def _shipped() -> DosingTable:
    """The shipped dosing table, looked up once (finding its file cost more than a scan)."""
    return table()


@dataclass(frozen=True)
class DoseScanner:
    """Output verification: doses above the table's single, daily or renal maximum; unflagged interactions.

    Args:
        action: What to propose for a finding: ``block`` the answer or ``flag`` it (annotate).
        interactions: Also report interacting or contraindicated pairs named without a caution.
    """

    action: Action = "block"
    interactions: bool = True
    channels: frozenset[Channel] = field(default=frozenset({"output"}), init=False)
    defends: str = field(default="output-verification", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Check every dose claim in the answer."""
        dosing = _shipped()
        found = [f for claim in dose_claims(text, dosing) for f in check(claim, ctx.kidney_function)]
        if self.interactions:
            found += interactions(text, dosing)
        return verdict(found, self.action)
