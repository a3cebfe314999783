"""The threat model of biomedical LLM systems as validated, queryable data."""

from medsec.taxonomy.load import default_data_dir, load_taxonomy
from medsec.taxonomy.model import (
    Attack,
    Capability,
    Defense,
    Evidence,
    Objective,
    OwaspRef,
    Refs,
    Stage,
    Taxonomy,
)

__all__ = [
    "Attack",
    "Capability",
    "Defense",
    "Evidence",
    "Objective",
    "OwaspRef",
    "Refs",
    "Stage",
    "Taxonomy",
    "default_data_dir",
    "load_taxonomy",
]
