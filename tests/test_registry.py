from __future__ import annotations

from dataclasses import dataclass

import pytest

from medsec.errors import RegistryError
from medsec.registry import Registry
from medsec.types import Spec


@dataclass(frozen=True)
class Echo:
    """Repeat what it is given."""

    times: int = 1
    prefix: str = ""


def registry() -> Registry[Echo]:
    return Registry("target", {"echo": Echo})


def test_create_from_spec_and_text() -> None:
    assert registry().create(Spec(name="echo", args={"times": 2})) == Echo(times=2)
    assert registry().create("echo:times=3,prefix=>") == Echo(times=3, prefix=">")


def test_unknown_name_suggests_close_names() -> None:
    with pytest.raises(RegistryError, match=r"unknown target 'ecoh'; did you mean echo\?"):
        registry().create("ecoh")


def test_bad_arguments_name_the_plugin() -> None:
    with pytest.raises(RegistryError, match=r"bad arguments for target 'echo'.*'volume'"):
        registry().create(Spec(name="echo", args={"volume": 11}))


def test_malformed_compact_spec_is_a_registry_error() -> None:
    with pytest.raises(RegistryError, match="not key=value"):
        registry().create("echo:times")


def test_spec_of_round_trips() -> None:
    reg = registry()
    plugin = Echo(times=4, prefix="#")
    assert reg.spec_of(plugin) == Spec(name="echo", args={"times": 4, "prefix": "#"})
    assert reg.create(reg.spec_of(plugin)) == plugin


def test_spec_of_refuses_foreign_plugins() -> None:
    with pytest.raises(RegistryError):
        registry().spec_of(object())  # type: ignore[arg-type]


def test_registry_is_immutable_and_listable() -> None:
    factories = {"echo": Echo}
    reg = Registry("target", factories)
    factories["other"] = Echo
    assert list(reg) == ["echo"] and len(reg) == 1 and "echo" in reg and "other" not in reg
    assert reg.describe("echo") == "Repeat what it is given."


def test_invalid_names_are_refused() -> None:
    with pytest.raises(RegistryError):
        Registry("target", {" echo": Echo})
