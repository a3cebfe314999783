"""Explicit name → factory maps, one per plugin kind.

A registry is plain data built from a literal mapping and handed to whoever needs it: there are no
import-time side effects, no module scanning and no global mutable registry. Later kinds (targets,
probes, detectors, guard scanners) each define one ``Registry`` literal next to their protocol.
"""

from __future__ import annotations

import dataclasses
import difflib
import importlib
import inspect
import typing
from collections.abc import Callable, Iterator, Mapping
from functools import cache
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from pydantic import BaseModel, ConfigDict, ValidationError, create_model
from pydantic_core import PydanticSerializationError, to_jsonable_python

from medsec.errors import RegistryError
from medsec.types import Spec

T = TypeVar("T")


@cache
def _arg_model(factory: type[Any]) -> type[BaseModel]:
    """A pydantic model of a dataclass plugin's constructor arguments, for typed Spec validation."""
    hints = typing.get_type_hints(factory)
    fields: dict[str, Any] = {
        f.name: (
            hints[f.name],
            ... if f.default is dataclasses.MISSING and f.default_factory is dataclasses.MISSING else None,
        )
        for f in dataclasses.fields(factory)
        if f.init
    }
    config = ConfigDict(extra="forbid", arbitrary_types_allowed=True)
    return create_model(f"{factory.__name__}Args", __config__=config, **fields)


def _coerce(factory: type[Any], args: dict[str, Any], what: str) -> dict[str, Any]:
    """Validate Spec arguments against the dataclass's annotations (JSON lists become tuples, etc.)."""
    try:
        validated = _arg_model(factory).model_validate(args)  # type: ignore[arg-type]
    except ValidationError as exc:
        problems = "; ".join(
            f"{'.'.join(map(str, e['loc']))}: {e['msg']}"
            for e in exc.errors(include_input=False, include_url=False)
        )
        raise RegistryError(f"bad arguments for {what}: {problems}") from None
    return {name: getattr(validated, name) for name in args}


class Registry(Generic[T]):
    """An immutable map from plugin names to the factories that build them.

    Args:
        kind: What the registry holds, for messages (``"target"``, ``"probe"``…).
        factories: Name → factory; a factory is any callable taking keyword arguments, usually a
            frozen dataclass, or the text ``"module:attribute"`` naming one, imported on first use
            (for plugins whose module would import too much, or import the registry back).
    """

    def __init__(self, kind: str, factories: Mapping[str, Callable[..., T] | str]) -> None:
        for name in factories:
            if not name or name != name.strip():
                raise RegistryError(f"invalid {kind} name {name!r}")
        self.kind = kind
        self._entries: Mapping[str, Callable[..., T] | str] = MappingProxyType(dict(factories))
        self._resolved: dict[str, Callable[..., T]] = {}

    @property
    def _factories(self) -> dict[str, Callable[..., T]]:
        return {name: self._resolve(name) for name in self._entries}

    def _resolve(self, name: str) -> Callable[..., T]:
        entry = self._entries[name]
        if not isinstance(entry, str):
            return entry
        if name not in self._resolved:
            module, _, attribute = entry.partition(":")
            self._resolved[name] = getattr(importlib.import_module(module), attribute)
        return self._resolved[name]

    def __contains__(self, name: object) -> bool:
        return name in self._entries

    def __iter__(self) -> Iterator[str]:
        return iter(sorted(self._entries))

    def __len__(self) -> int:
        return len(self._entries)

    def factory(self, name: str) -> Callable[..., T]:
        """Return the factory registered under ``name``.

        Raises:
            RegistryError: When no plugin has that name; the message suggests close names.
        """
        try:
            return self._resolve(name)
        except KeyError:
            close = difflib.get_close_matches(name, list(self._entries), n=3)
            hint = f"; did you mean {', '.join(close)}?" if close else ""
            known = ", ".join(sorted(self._entries)) or "none"
            raise RegistryError(f"unknown {self.kind} {name!r}{hint} (known: {known})") from None

    def create(self, spec: Spec | str) -> T:
        """Build the plugin a Spec describes.

        Args:
            spec: A Spec, or its compact text form ``name:key=value,…``.

        Returns:
            The constructed plugin.

        Raises:
            RegistryError: When the name is unknown or the arguments do not fit the factory.
        """
        if isinstance(spec, str):
            try:
                spec = Spec.parse(spec)
            except ValueError as exc:
                raise RegistryError(str(exc)) from None
        factory = self.factory(spec.name)
        args: dict[str, Any] = dict(spec.args)
        try:
            inspect.signature(factory).bind(**args)
        except TypeError as exc:
            raise RegistryError(f"bad arguments for {self.kind} {spec.name!r}: {exc}") from None
        except ValueError:  # builtins without a signature: let the call decide
            pass
        if isinstance(factory, type) and dataclasses.is_dataclass(factory):
            args = _coerce(factory, args, f"{self.kind} {spec.name!r}")
        try:
            return factory(**args)
        except (TypeError, ValueError) as exc:
            raise RegistryError(f"cannot build {self.kind} {spec.name!r}: {exc}") from None

    def spec_of(self, plugin: T) -> Spec:
        """Return the Spec that rebuilds ``plugin``: its registered name and its dataclass fields.

        Raises:
            RegistryError: When the plugin's class is not registered here or is not a dataclass.
        """
        names = [n for n, f in self._factories.items() if f is type(plugin)]
        if not names or not dataclasses.is_dataclass(plugin):
            raise RegistryError(f"{type(plugin).__name__} is not a registered {self.kind} dataclass")
        try:
            args = {
                f.name: to_jsonable_python(getattr(plugin, f.name))
                for f in dataclasses.fields(plugin)
                if f.init
            }
        except PydanticSerializationError:
            raise RegistryError(f"{type(plugin).__name__} holds a value that a Spec cannot record") from None
        return Spec(name=names[0], args=args)

    def describe(self, name: str) -> str:
        """Return the first line of the plugin's docstring, which listings show ("" when it has none)."""
        factory = self.factory(name)
        doc = (inspect.getdoc(factory) or "").strip()
        # dataclasses invent a docstring from the signature when a class has none: that is no description
        if not doc or doc.startswith(f"{getattr(factory, '__name__', '')}("):
            return ""
        return doc.splitlines()[0]
