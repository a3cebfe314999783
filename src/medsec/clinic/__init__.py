"""The reference clinical assistant's data: a synthetic EHR and a clinical knowledge base.

Everything here is synthetic and deterministic: :meth:`Ehr.build` generates a hospital from a seed, and
the knowledge base and dosing table are passages and figures written for medsec (with citations), meant
as a system under test, not as clinical decision support.
"""

from medsec.clinic.dosing import DoseRule, DosingTable, RenalRule, load_dosing
from medsec.clinic.ehr import Ehr
from medsec.clinic.knowledge import Bm25Retriever, Hit, KnowledgeBase, KnowledgeError, Passage, Retriever
from medsec.clinic.records import (
    Allergy,
    Clinician,
    EhrError,
    Encounter,
    Lab,
    Leak,
    Medication,
    Note,
    Patient,
    Problem,
    RecordNotFoundError,
    Unit,
)

__all__ = [
    "Allergy",
    "Bm25Retriever",
    "Clinician",
    "DoseRule",
    "DosingTable",
    "Ehr",
    "EhrError",
    "Encounter",
    "Hit",
    "KnowledgeBase",
    "KnowledgeError",
    "Lab",
    "Leak",
    "Medication",
    "Note",
    "Passage",
    "Patient",
    "Problem",
    "RecordNotFoundError",
    "RenalRule",
    "Retriever",
    "Unit",
    "load_dosing",
]
