"""Output verification: dose claims checked against the dosing table; interacting pairs without caution."""

from __future__ import annotations

from dataclasses import dataclass, field

from medsec.guard.claims import check, dose_claims, interactions
from medsec.guard.scanner import Action, Channel, Context, Verdict, verdict


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
        found = [f for claim in dose_claims(text) for f in check(claim, ctx.kidney_function)]
        if self.interactions:
            found += interactions(text)
        return verdict(found, self.action)
