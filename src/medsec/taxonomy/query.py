"""Questions asked of the taxonomy: filtering attacks, and which attacks a set of defenses leaves open."""

from __future__ import annotations

from collections.abc import Iterable

from pydantic import Field

from medsec.errors import TaxonomyError
from medsec.taxonomy.model import Attack, Taxonomy
from medsec.types import Frozen


def _known(value: str | None, known: Iterable[str], what: str) -> None:
    names = list(known)
    if value is not None and value not in names:
        raise TaxonomyError(f"unknown {what} {value!r}; choose one of: {', '.join(names)}")


def filter_attacks(
    taxonomy: Taxonomy,
    *,
    objective: str | None = None,
    stage: str | None = None,
    capability: str | None = None,
    max_capability: str | None = None,
) -> tuple[Attack, ...]:
    """Select attacks by objective, lifecycle stage and attacker capability.

    Args:
        taxonomy: The taxonomy to query.
        objective: Keep attacks that violate this objective (primary or not).
        stage: Keep attacks whose weakness is introduced or exploited at this stage.
        capability: Keep attacks whose weakest sufficient capability is exactly this one.
        max_capability: Keep attacks an attacker of at most this capability can mount.

    Returns:
        The matching attacks, in taxonomy order.

    Raises:
        TaxonomyError: When a filter names an unknown objective, stage or capability.
    """
    _known(objective, (o.id for o in taxonomy.objectives), "objective")
    _known(stage, (s.id for s in taxonomy.stages), "stage")
    for cap in (capability, max_capability):
        _known(cap, (c.id for c in taxonomy.capabilities), "capability")
    ceiling = taxonomy.capability_level(max_capability) if max_capability else None
    return tuple(
        a
        for a in taxonomy.attacks
        if (objective is None or objective in a.objectives)
        and (stage is None or stage in a.introduced or stage in a.exploited)
        and (capability is None or a.capability == capability)
        and (ceiling is None or taxonomy.capability_level(a.capability) <= ceiling)
    )


class ObjectiveCoverage(Frozen):
    """Attacks of one primary objective, split by whether a chosen defense mitigates them."""

    objective: str
    covered: tuple[str, ...]
    uncovered: tuple[str, ...]


class Coverage(Frozen):
    """The static half of the defense map: which attacks a set of defenses leaves without mitigation.

    Attributes:
        defenses: The defense ids that were assumed deployed.
        objectives: One entry per objective, attacks grouped by their primary objective.
    """

    defenses: tuple[str, ...]
    objectives: tuple[ObjectiveCoverage, ...] = Field(default=())

    @property
    def uncovered(self) -> tuple[str, ...]:
        """Every attack id that no chosen defense mitigates."""
        return tuple(a for o in self.objectives for a in o.uncovered)


def coverage(taxonomy: Taxonomy, defenses: Iterable[str]) -> Coverage:
    """Compute which attacks have no mitigating defense among ``defenses``.

    Raises:
        TaxonomyError: When a defense id is unknown.
    """
    chosen = tuple(dict.fromkeys(d.strip() for d in defenses if d.strip()))
    known = {d.id for d in taxonomy.defenses}
    unknown = [d for d in chosen if d not in known]
    if unknown:
        raise TaxonomyError(
            f"unknown defense id(s) {', '.join(map(repr, unknown))}; "
            f"see `medsec taxonomy --format json` for the {len(known)} defense ids"
        )
    rows = []
    for objective in taxonomy.objectives:
        attacks = [a for a in taxonomy.attacks if a.objectives[0] == objective.id]
        covered = tuple(a.id for a in attacks if set(a.defenses) & set(chosen))
        uncovered = tuple(a.id for a in attacks if a.id not in covered)
        rows.append(ObjectiveCoverage(objective=objective.id, covered=covered, uncovered=uncovered))
    return Coverage(defenses=chosen, objectives=tuple(rows))
