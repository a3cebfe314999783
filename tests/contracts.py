"""Contract checks that every registry entry must pass, whatever its kind.

A registry module adds itself to ``REGISTRIES`` in ``tests/test_contracts.py`` and inherits these
checks for every entry: it builds with its defaults, has a docstring whose first line a listing can
show, names taxonomy ids that exist, and round-trips through its Spec.
"""

from __future__ import annotations

import dataclasses
from typing import Any

from medsec.registry import Registry
from medsec.taxonomy import Taxonomy

TAXONOMY_ATTRIBUTES = {"attack": "attack", "defends": "defense"}
"""Plugin attributes that must name a taxonomy id, and which kind of id."""


def contract_problems(registry: Registry[Any], name: str, taxonomy: Taxonomy) -> list[str]:
    """Return every way the entry ``name`` breaks the plugin contract (empty when it keeps it)."""
    problems: list[str] = []
    if not registry.describe(name):
        problems.append(f"{name}: has no docstring")
    try:
        plugin = registry.create(name)
    except Exception as exc:  # noqa: BLE001 - the contract is "builds with defaults", whatever breaks it
        return [*problems, f"{name}: does not build with its defaults ({type(exc).__name__}: {exc})"]
    if not dataclasses.is_dataclass(plugin):
        problems.append(f"{name}: is not a dataclass")
    elif not type(plugin).__dataclass_params__.frozen:  # type: ignore[attr-defined]
        problems.append(f"{name}: is not a frozen dataclass")
    for attribute, kind in TAXONOMY_ATTRIBUTES.items():
        value = getattr(plugin, attribute, None)
        if value is None:
            continue
        ids = (value,) if isinstance(value, str) else tuple(value)
        lookup = taxonomy.attack if kind == "attack" else taxonomy.defense
        problems += [
            f"{name}: {attribute} names unknown taxonomy {kind} {i!r}" for i in ids if lookup(i) is None
        ]
    if dataclasses.is_dataclass(plugin):
        spec = registry.spec_of(plugin)
        if registry.create(spec) != plugin:
            problems.append(f"{name}: does not round-trip through its Spec")
    return problems
