"""Shared vocabulary of every part of medsec: messages, findings and plugin specs.

These are frozen pydantic models: what crosses a boundary or is stored is immutable and versioned.
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import BaseModel, BeforeValidator, ConfigDict, Field, JsonValue, model_validator

Role = Literal["system", "user", "assistant", "tool"]


class Frozen(BaseModel):
    """Base of medsec's value objects: immutable, and strict about unknown fields."""

    model_config = ConfigDict(frozen=True, extra="forbid")


class ToolCall(Frozen):
    """A tool call the model proposed: the tool's name and its arguments as JSON text.

    Attributes:
        id: The call's id, which the ``tool`` message answering it repeats.
        name: The tool's name.
        arguments: The arguments, as the JSON text the model produced (it may be invalid JSON).
    """

    id: str
    name: str
    arguments: str = "{}"


class Message(Frozen):
    """One chat message, as sent to or received from a target.

    Attributes:
        role: Who speaks: ``system``, ``user``, ``assistant`` or ``tool``.
        content: The text of the message.
        name: Optional author name (a tool's name for ``tool`` messages).
        tool_calls: Calls an ``assistant`` message proposed.
        tool_call_id: For a ``tool`` message, the id of the call it answers.
    """

    role: Role
    content: str
    name: str | None = None
    tool_calls: tuple[ToolCall, ...] = ()
    tool_call_id: str | None = None


class Finding(Frozen):
    """Something a detector or scanner found, with where it is and how sure it is.

    Attributes:
        label: What was found, e.g. ``phi.name`` or ``injection.override``.
        score: Confidence in [0, 1].
        start: Offset of the first character in the scanned text, when the finding has a span.
        end: Offset one past the last character; set together with ``start``.
        detail: A short, PHI-free explanation.
    """

    label: str = Field(min_length=1)
    score: float = Field(ge=0.0, le=1.0)
    start: int | None = Field(default=None, ge=0)
    end: int | None = Field(default=None, ge=0)
    detail: str | None = None

    @model_validator(mode="after")
    def _span_is_whole(self) -> Finding:
        if (self.start is None) != (self.end is None):
            raise ValueError("start and end must be given together")
        if self.start is not None and self.end is not None and self.end < self.start:
            raise ValueError("end must not precede start")
        return self


class Spec(Frozen):
    """How to build one plugin: its registered name and the keyword arguments of its factory.

    Every plugin medsec builds is reproducible from its Spec, and every run records the specs it used.
    ``Spec.parse("name:key=value,key=value")`` reads the compact form the CLI accepts.
    """

    name: str = Field(min_length=1)
    args: dict[str, JsonValue] = Field(default_factory=dict)

    @classmethod
    def parse(cls, text: str) -> Spec:
        """Read ``name`` or ``name:key=value,key=value``; values are parsed as JSON when they can be.

        Args:
            text: The compact spec.

        Returns:
            The parsed Spec.

        Raises:
            ValueError: When the text is empty or an argument has no ``=``.
        """
        import json
        import re

        name, _, rest = text.strip().partition(":")
        if not name:
            raise ValueError(f"empty plugin name in spec {text!r}")
        args: dict[str, JsonValue] = {}
        # split on commas that start a new key=, so JSON lists and objects keep theirs
        for part in filter(None, (p.strip() for p in re.split(r",(?=\s*[A-Za-z_][\w-]*\s*=)", rest))):
            key, eq, raw = part.partition("=")
            if not eq or not key.strip():
                raise ValueError(f"argument {part!r} in spec {text!r} is not key=value")
            try:
                args[key.strip()] = json.loads(raw)
            except json.JSONDecodeError:
                args[key.strip()] = raw
        return cls(name=name, args=args)


def _spec_from_text(value: Any) -> Any:
    return Spec.parse(value) if isinstance(value, str) else value


SpecArg = Annotated[Spec, BeforeValidator(_spec_from_text)]
"""A Spec that config files and flags may also write in its compact text form ``name:key=value,…``."""
