"""Load the taxonomy from its YAML files and check every cross-reference.

Layout of a taxonomy directory::

    taxonomy.yaml        version, objectives, capabilities, stages
    frameworks.yaml      the OWASP, ATLAS and HIPAA vocabularies that refs are checked against
    defenses.yaml        a list of defenses
    attacks/*.yaml       lists of attacks (one file per objective by convention)

Every problem is reported at once, each as ``file:line: message`` naming the id at fault.
"""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError

from medsec.config import YamlDocument, describe_validation_error, read_yaml
from medsec.errors import ConfigError, TaxonomyError
from medsec.taxonomy.model import (
    Attack,
    Capability,
    Defense,
    Framework,
    Objective,
    Refs,
    Stage,
    Taxonomy,
)

E = TypeVar("E", bound=BaseModel)


def default_data_dir() -> Path:
    """The taxonomy shipped inside the package."""
    return Path(str(resources.files("medsec.taxonomy") / "data"))


class _Collector:
    """Gathers problems so one load reports all of them."""

    def __init__(self) -> None:
        self.problems: list[str] = []

    def add(self, doc: YamlDocument, loc: tuple[str | int, ...], message: str) -> None:
        line = doc.line_of(loc)
        self.problems.append(f"{doc.path}:{line}: {message}" if line else f"{doc.path}: {message}")


def _entries(
    model: type[E], doc: YamlDocument, key: str | None, bad: _Collector
) -> Iterator[tuple[E, tuple[str | int, ...]]]:
    """Validate each item of the list at ``key`` (or the top-level list) as ``model``."""
    items = doc.data.get(key) if key is not None and isinstance(doc.data, dict) else doc.data
    base: tuple[str | int, ...] = (key,) if key is not None else ()
    if not isinstance(items, list):
        bad.add(doc, base, f"expected a list of {model.__name__.lower()} entries")
        return
    for i, item in enumerate(items):
        try:
            yield model.model_validate(item), (*base, i)
        except ValidationError as exc:
            ident = item.get("id") if isinstance(item, dict) else None
            label = f" ({model.__name__.lower()} {ident!r})" if ident else ""
            for line in describe_validation_error(exc, doc, (*base, i)).splitlines():
                bad.problems.append(line + label)


def _read(path: Path, bad: _Collector) -> YamlDocument | None:
    try:
        return read_yaml(path)
    except ConfigError as exc:
        bad.problems.append(str(exc))
        return None


def _check_refs(
    refs: Refs, fw: Framework, owner: str, doc: YamlDocument, loc: tuple[str | int, ...], bad: _Collector
) -> None:
    for ref in refs.owasp:
        if ref.risk not in fw.owasp.get(ref.edition, ()):
            bad.add(doc, (*loc, "refs"), f"{owner}: unknown OWASP {ref.edition} risk {ref.risk!r}")
    for atlas_id in refs.atlas:
        if atlas_id not in fw.atlas:
            bad.add(doc, (*loc, "refs"), f"{owner}: unknown MITRE ATLAS id {atlas_id!r}")
    for provision in refs.hipaa:
        if provision not in fw.hipaa:
            bad.add(doc, (*loc, "refs"), f"{owner}: unknown HIPAA provision {provision!r}")


def _check_ids(
    wanted: Iterable[str],
    known: set[str],
    what: str,
    owner: str,
    where: tuple[YamlDocument, Any],
    bad: _Collector,
) -> None:
    doc, loc = where
    for i, ident in enumerate(wanted):
        if ident not in known:
            bad.add(doc, (*loc, i), f"{owner}: dangling {what} id {ident!r}")


def load_taxonomy(data_dir: str | Path | None = None) -> Taxonomy:
    """Load, validate and cross-check a taxonomy directory (the shipped one by default).

    Args:
        data_dir: A directory laid out as the module docstring describes; None for the shipped data.

    Returns:
        The validated taxonomy.

    Raises:
        TaxonomyError: Listing every problem found, each with its file, line and id.
    """
    if data_dir is None:
        return _load_default()
    return _load(Path(data_dir))


@lru_cache(maxsize=1)
def _load_default() -> Taxonomy:
    return _load(default_data_dir())


def _load(root: Path) -> Taxonomy:  # noqa: C901 - one linear pass of checks reads best in one place
    bad = _Collector()
    if not root.is_dir():
        raise TaxonomyError(f"{root}: taxonomy directory not found")
    core = _read(root / "taxonomy.yaml", bad)
    fw_doc = _read(root / "frameworks.yaml", bad)
    def_doc = _read(root / "defenses.yaml", bad)
    attack_files = sorted((root / "attacks").glob("*.yaml"))
    if not attack_files:
        bad.problems.append(f"{root / 'attacks'}: no attack files (*.yaml)")
    if core is None or fw_doc is None or def_doc is None or bad.problems:
        raise TaxonomyError("\n".join(bad.problems))

    version = core.data.get("version") if isinstance(core.data, dict) else None
    objectives = [o for o, _ in _entries(Objective, core, "objectives", bad)]
    capabilities = [c for c, _ in _entries(Capability, core, "capabilities", bad)]
    stages = [s for s, _ in _entries(Stage, core, "stages", bad)]
    try:
        frameworks = Framework.model_validate(fw_doc.data)
    except ValidationError as exc:
        raise TaxonomyError(describe_validation_error(exc, fw_doc)) from None
    defenses = list(_entries(Defense, def_doc, None, bad))
    attacks: list[tuple[Attack, tuple[str | int, ...], YamlDocument]] = []
    for path in attack_files:
        doc = _read(path, bad)
        if doc is not None:
            attacks.extend((a, loc, doc) for a, loc in _entries(Attack, doc, None, bad))

    seen: dict[str, Path] = {}
    for ident, path in [(d.id, def_doc.path) for d, _ in defenses] + [(a.id, d.path) for a, _, d in attacks]:
        if ident in seen:
            bad.problems.append(f"{path}: duplicate id {ident!r} (also in {seen[ident]})")
        seen.setdefault(ident, path)

    objective_ids = {o.id for o in objectives}
    capability_ids = {c.id for c in capabilities}
    stage_ids = {s.id for s in stages}
    defense_ids = {d.id for d, _ in defenses}
    for attack, loc, doc in attacks:
        owner = f"attack {attack.id!r}"
        _check_ids(attack.objectives, objective_ids, "objective", owner, (doc, (*loc, "objectives")), bad)
        _check_ids([attack.capability], capability_ids, "capability", owner, (doc, loc), bad)
        _check_ids(attack.introduced, stage_ids, "stage", owner, (doc, (*loc, "introduced")), bad)
        _check_ids(attack.exploited, stage_ids, "stage", owner, (doc, (*loc, "exploited")), bad)
        _check_ids(attack.defenses, defense_ids, "defense", owner, (doc, (*loc, "defenses")), bad)
        _check_refs(attack.refs, frameworks, owner, doc, loc, bad)
    used = {d for a, _, _ in attacks for d in a.defenses}
    for defense, loc in defenses:
        owner = f"defense {defense.id!r}"
        _check_ids(defense.acts_at, stage_ids, "stage", owner, (def_doc, (*loc, "acts_at")), bad)
        _check_refs(defense.refs, frameworks, owner, def_doc, loc, bad)
        if defense.id not in used:
            bad.add(def_doc, loc, f"{owner} mitigates no attack (no attack lists it under defenses)")
    if bad.problems:
        raise TaxonomyError("\n".join(bad.problems))
    rank = {o.id: i for i, o in enumerate(objectives)}  # attacks listed in objective order, then file order
    try:
        return Taxonomy(
            version=str(version),
            objectives=tuple(objectives),
            capabilities=tuple(sorted(capabilities, key=lambda c: c.level)),
            stages=tuple(sorted(stages, key=lambda s: s.order)),
            attacks=tuple(sorted((a for a, _, _ in attacks), key=lambda a: rank[a.objectives[0]])),
            defenses=tuple(d for d, _ in defenses),
            frameworks=frameworks,
        )
    except ValidationError as exc:
        raise TaxonomyError(describe_validation_error(exc, core)) from None
