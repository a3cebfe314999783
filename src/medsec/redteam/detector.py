"""The ``Detector`` protocol: judge an attempt deterministically, or say it cannot."""

from __future__ import annotations

from typing import Protocol, runtime_checkable

from medsec.redteam.case import Attempt, Judgement


@runtime_checkable
class Detector(Protocol):
    """Judges whether an attack succeeded. Plugins are frozen dataclasses in ``redteam/detectors/``.

    A detector returns a :class:`Judgement` whose ``success`` is None when the case gives it nothing to
    judge by (no canaries for the canary detector, no forbidden tools for the tool-trace detector).
    The runner fills in the judgement's ``detector`` name.
    """

    async def __call__(self, attempt: Attempt) -> Judgement:
        """Judge one attempt."""
        ...
