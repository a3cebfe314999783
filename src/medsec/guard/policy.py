"""Guard policies: YAML files listing scanner specs in order, with thresholds and per-finding actions.

A policy is parsed once, at the edge, with unknown keys refused. Every error names the file and line and
says how to fix it, e.g. ``balanced.yaml:14: scanners.2.scanner: unknown guard scanner 'injecton'; did
you mean injection?``. ``strict`` and ``balanced`` ship with medsec (``medsec/guard/policies``)::

    version: 1
    name: balanced
    scanners:
      - scanner: injection          # a SCANNERS name
        args: {threshold: 0.9}      # the scanner's own arguments
        channels: [input, context]  # a subset of the scanner's channels (default: all of them)
        threshold: 0.0              # findings scoring below are dropped
        actions: {"injection.*": block}   # label glob -> allow | redact | flag | block
        fail_open: false            # let text pass when the scanner raises (default: block)
"""

from __future__ import annotations

from importlib import resources
from pathlib import Path
from typing import Literal

from pydantic import ConfigDict, Field, JsonValue, ValidationError

from medsec.config import YamlDocument, describe_validation_error, read_yaml
from medsec.errors import ConfigError, MedsecError
from medsec.guard.pipeline import Pipeline, Step
from medsec.guard.scanner import Action, Channel
from medsec.guard.scanners import SCANNERS
from medsec.types import Frozen, Spec

BUILTIN = ("strict", "balanced")
_HINT = "see docs/guard.md, section Policies"


class StepSpec(Frozen):
    """One scanner in a policy (see the module docstring for each field)."""

    model_config = ConfigDict(frozen=True, extra="forbid")

    scanner: str = Field(min_length=1)
    name: str | None = None
    args: dict[str, JsonValue] = Field(default_factory=dict)
    channels: tuple[Channel, ...] | None = None
    threshold: float = Field(default=0.0, ge=0.0, le=1.0)
    actions: dict[str, Action] = Field(default_factory=dict)
    fail_open: bool | None = None


class Policy(Frozen):
    """A whole policy: a name and the ordered scanners.

    Attributes:
        version: Format version (1).
        name: The policy's name, recorded with every outcome.
        description: What the policy is for.
        fail_open: Default for steps that do not set ``fail_open``.
        scanners: The steps, in the order they run.
    """

    version: Literal[1] = 1
    name: str = Field(min_length=1)
    description: str = ""
    fail_open: bool = False
    scanners: tuple[StepSpec, ...] = Field(min_length=1)


def policy_path(name_or_path: str | Path) -> Path:
    """The file of a shipped policy (``strict``, ``balanced``), or the path as given."""
    if str(name_or_path) in BUILTIN:
        return Path(str(resources.files("medsec.guard") / "policies" / f"{name_or_path}.yaml"))
    return Path(name_or_path)


def _hints(exc: ValidationError) -> str:
    kinds = {e["type"] for e in exc.errors(include_input=False, include_url=False)}
    hints = []
    if "extra_forbidden" in kinds:
        hints.append(
            "remove the unknown key or fix its spelling (policy keys: version, name, description, "
            "fail_open, scanners; step keys: " + ", ".join(StepSpec.model_fields) + ")"
        )
    if "literal_error" in kinds or "enum" in kinds:
        hints.append("use one of the values the message lists")
    hints.append(_HINT)
    return "\nhint: " + "; ".join(hints)


def parse_policy(doc: YamlDocument) -> Policy:
    """Validate a read YAML document as a policy.

    Raises:
        ConfigError: With ``file:line: field: problem`` lines and a fix hint.
    """
    try:
        return Policy.model_validate(doc.data)
    except ValidationError as exc:
        raise ConfigError(describe_validation_error(exc, doc) + _hints(exc)) from None


def _step(policy: Policy, i: int, spec: StepSpec, doc: YamlDocument | None) -> Step:
    where = f"{doc.path}:{doc.line_of(('scanners', i))}" if doc is not None else f"policy {policy.name}"
    try:
        scanner = SCANNERS.create(Spec(name=spec.scanner, args=spec.args))
    except MedsecError as exc:
        raise ConfigError(f"{where}: scanners.{i}: {exc}\nhint: {_HINT}") from None
    if spec.channels is not None and not set(spec.channels) <= scanner.channels:
        allowed = ", ".join(sorted(scanner.channels))
        raise ConfigError(
            f"{where}: scanners.{i}.channels: {spec.scanner} runs only on {allowed}\n"
            f"hint: list a subset of those channels, or leave channels out"
        )
    return Step(
        name=spec.name or spec.scanner,
        scanner=scanner,
        channels=frozenset(spec.channels) if spec.channels is not None else None,
        threshold=spec.threshold,
        actions=tuple(spec.actions.items()),
        fail_open=policy.fail_open if spec.fail_open is None else spec.fail_open,
    )


def build_pipeline(policy: Policy, doc: YamlDocument | None = None) -> Pipeline:
    """Build the scanners of a policy into a pipeline.

    Raises:
        ConfigError: When a scanner is unknown, its arguments do not fit, or its channels are wrong.
    """
    return Pipeline(
        steps=tuple(_step(policy, i, s, doc) for i, s in enumerate(policy.scanners)), name=policy.name
    )


def load_policy(name_or_path: str | Path = "balanced") -> Pipeline:
    """Read, validate and build a policy file (or a shipped policy by name) into a pipeline.

    Raises:
        ConfigError: When the file is missing, not YAML, or invalid; messages name file and line.
    """
    doc = read_yaml(policy_path(name_or_path))
    return build_pipeline(parse_policy(doc), doc)
