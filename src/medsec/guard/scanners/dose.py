"""Output verification: dose claims checked against the dosing table; interacting pairs without caution."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from functools import cache

from medsec.clinic.dosing import DosingTable
from medsec.guard.claims import check, dose_claims, interactions, table
from medsec.guard.scanner import Action, Channel, Context, Verdict, verdict


@cache
def _shipped() -> DosingTable:
    """The shipped dosing table, looked up once (finding its file cost more than a scan)."""
    return table()


_WORD = re.compile(r"\w+")


@cache
def _first_words(dosing: DosingTable) -> tuple[str, ...]:
    """Each drug's first word: a whole word of any text that names the drug."""
    return tuple(m.group(0) if (m := _WORD.match(r.drug)) else "" for r in dosing)


def _may_interact(text: str, dosing: DosingTable) -> bool:
    """False only when ``text`` cannot name two of the table's drugs (``interactions`` would find none).

    ``interactions`` looks for each drug's name as a whole word in the lowercased text, so a named drug's
    first word is a word of that text; one pass over the text's words rules most answers out.
    """
    words = set(_WORD.findall(text.lower()))
    return sum(1 for w in _first_words(dosing) if not w or w in words) >= 2


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
        if self.interactions and _may_interact(text, dosing):
            found += interactions(text, dosing)
        return verdict(found, self.action)
