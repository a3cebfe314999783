"""Training-data memorisation and membership: do protected records score as more likely than controls?"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from medsec.redteam.case import Case
from medsec.redteam.probe import ScanContext

REASON = (
    "needs a target that returns token log-probabilities of a given text (a `score` method); this "
    "target does not expose them, so canary likelihood cannot be compared with non-member controls"
)


@dataclass(frozen=True)
class Memorisation:
    """Canary likelihood against non-member controls, for targets that expose log-probabilities.

    Black-box chat targets do not, so the probe is skipped for them with its reason recorded in the
    run. (Extraction by prompting is covered by the context-extraction probes.)

    Args:
        controls: Non-member control records per canary record.
    """

    attack: str = "membership-inference"
    detectors: tuple[str, ...] = ()
    controls: int = 5

    def unsupported(self, target: object) -> str | None:
        """Why this probe cannot run against ``target`` (None when it can)."""
        return None if callable(getattr(target, "score", None)) else REASON

    def cases(self, ctx: ScanContext) -> Iterable[Case]:
        """No chat cases: scoring targets are measured by likelihood, which no shipped target exposes yet."""
        return []
