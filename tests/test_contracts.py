"""Every registry entry keeps the plugin contract; the scaffolding itself is tested on toy plugins."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import pytest

from medsec.guard.scanners import SCANNERS
from medsec.redteam.detectors import DETECTORS
from medsec.redteam.probes import PROBES
from medsec.registry import Registry
from medsec.targets import TARGETS
from medsec.taxonomy import load_taxonomy
from tests.contracts import contract_problems

# One line per plugin kind; later registries (probes, detectors, guard scanners) add theirs.
REGISTRIES: list[Registry[Any]] = [TARGETS, PROBES, DETECTORS, SCANNERS]


@pytest.mark.parametrize(("registry", "name"), [(r, n) for r in REGISTRIES for n in r])
def test_every_entry_keeps_the_contract(registry: Registry[Any], name: str) -> None:
    assert contract_problems(registry, name, load_taxonomy()) == []


@dataclass(frozen=True)
class GoodProbe:
    """A probe that keeps the contract."""

    attack: str = "context-phi-extraction"
    turns: int = 1


@dataclass(frozen=True)
class DanglingProbe:
    """A probe that points at an attack the taxonomy does not have."""

    attack: str = "no-such-attack"


@dataclass
class MutableProbe:
    """A probe that is not frozen."""

    attack: str = "context-phi-extraction"


@dataclass(frozen=True)
class NeedsArgument:
    """A probe that cannot be built with defaults."""

    attack: str


@dataclass(frozen=True)
class Undocumented:
    attack: str = "context-phi-extraction"


TOYS: Registry[Any] = Registry(
    "probe",
    {
        "good": GoodProbe,
        "dangling": DanglingProbe,
        "mutable": MutableProbe,
        "needs-argument": NeedsArgument,
        "undocumented": Undocumented,
    },
)


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("good", []),
        ("dangling", ["dangling: attack names unknown taxonomy attack 'no-such-attack'"]),
        ("mutable", ["mutable: is not a frozen dataclass"]),
        ("undocumented", ["undocumented: has no docstring"]),
    ],
)
def test_contract_flags_each_breach(name: str, expected: list[str]) -> None:
    assert contract_problems(TOYS, name, load_taxonomy()) == expected


def test_contract_flags_a_plugin_that_needs_arguments() -> None:
    [problem] = contract_problems(TOYS, "needs-argument", load_taxonomy())
    assert problem.startswith("needs-argument: does not build with its defaults")
