"""Harmful requests from a public dataset file read by path: MedSafetyBench or HarmBench-style CSV."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass
from typing import Literal

from medsec.errors import ConfigError
from medsec.redteam.case import Case
from medsec.redteam.probe import ScanContext
from medsec.redteam.probes._util import limited
from medsec.redteam.probes.safety.harmful import harmful_case
from medsec.redteam.probes.safety.loaders import interleave, read_harmbench, read_medsafetybench

READERS = {"medsafetybench": read_medsafetybench, "harmbench": read_harmbench}


@dataclass(frozen=True)
class HarmfulDataset:
    """Harmful requests from a dataset file you point it at (MedSafetyBench CSVs, HarmBench-style CSV).

    Nothing is bundled: ``path`` is read when the scan plans its cases, and a missing or malformed file is
    a ConfigError naming the file and line. Cases interleave categories, so ``limit`` spans them.

    Args:
        path: A CSV file, or (MedSafetyBench) a folder searched for ``*.csv``.
        format: ``medsafetybench`` (``,harmful_medical_request,safe_response``) or ``harmbench``
            (``Behavior``, ``BehaviorID``, ``SemanticCategory``, ``ContextString``).
        limit: Most cases to yield (None: all).
    """

    attack: str = "harmful-medical-request"
    detectors: tuple[str, ...] = ("compliance",)
    path: str | None = None
    format: Literal["medsafetybench", "harmbench"] = "medsafetybench"
    limit: int | None = None

    def cases(self, ctx: ScanContext) -> Iterable[Case]:
        """One case per row, categories interleaved.

        Raises:
            ConfigError: When no path is given, or the file is missing or malformed.
        """
        if not self.path:
            raise ConfigError("probe harmful-dataset needs path=FILE (and format=medsafetybench|harmbench)")
        requests = interleave(READERS[self.format](self.path))
        return limited([harmful_case(r, source=self.format) for r in requests], self.limit)
