"""The PHI engine: find the 18 HIPAA Safe Harbor identifiers in clinical text, then act on them.

Detection returns typed spans (:func:`detect`); transformations act on spans (:func:`deidentify`).
"""

from __future__ import annotations

from medsec.phi.detect import detect, detect_batch, iter_spans
from medsec.phi.model import DeidResult, Mode, PhiSpan, PhiType
from medsec.phi.transform import (
    Surrogates,
    apply,
    deidentify,
    deidentify_batch,
    deidentify_stream,
    safe_harbor_zip,
)
from medsec.phi.vault import Vault

__all__ = [
    "DeidResult",
    "Mode",
    "PhiSpan",
    "PhiType",
    "Surrogates",
    "Vault",
    "apply",
    "deidentify",
    "deidentify_batch",
    "deidentify_stream",
    "detect",
    "detect_batch",
    "iter_spans",
    "safe_harbor_zip",
]
