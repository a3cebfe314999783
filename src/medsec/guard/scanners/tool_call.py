"""Tool-call authorisation: role and patient per call, argument checks, write tools held or blocked."""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any

from medsec.guard.claims import check, dose_claims
from medsec.guard.scanner import Action, Channel, Context, Verdict, verdict
from medsec.types import Finding

_ROLES = {"add_order": ("clinician",), "list_patients": ("clinician", "nurse")}
_PATIENT_KEYS = ("mrn", "patient", "patient_id")


def _parse(text: str) -> tuple[str, dict[str, Any]] | None:
    """``{"name": …, "arguments": {…} or "json"}`` → (name, arguments), None when malformed."""
    try:
        call = json.loads(text)
        args = call.get("arguments", {})
        args = json.loads(args) if isinstance(args, str) else args
    except (ValueError, AttributeError):
        return None
    name = call.get("name")
    return (name, args) if isinstance(name, str) and isinstance(args, dict) else None


def _bad(label: str, detail: str, score: float = 1.0) -> Finding:
    return Finding(label=f"tool.{label}", score=score, detail=detail)


@dataclass(frozen=True)
class ToolCallScanner:
    """Tool-call authorisation: who may call what, for which patient, with which arguments.

    The scanned text is the call as JSON: ``{"name": "get_patient", "arguments": {"mrn": "…"}}``.

    Args:
        roles: Tool → roles allowed to call it (tools not listed: any role).
        tools: The tools that exist (empty: any name).
        write_tools: Tools that change records; they are held for confirmation or blocked.
        write_action: ``flag`` (held for a human to confirm) or ``block``.
        max_arg_chars: Longest argument value accepted.
    """

    roles: dict[str, tuple[str, ...]] = field(default_factory=lambda: dict(_ROLES))
    tools: tuple[str, ...] = ("search_knowledge", "get_patient", "list_patients", "get_notes", "add_order")
    write_tools: tuple[str, ...] = ("add_order",)
    write_action: Action = "flag"
    max_arg_chars: int = 500
    channels: frozenset[Channel] = field(default=frozenset({"tool_call"}), init=False)
    defends: str = field(default="tool-call-authorization", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Block unauthorised or malformed calls; hold write calls per policy."""
        parsed = _parse(text)
        if parsed is None:
            return verdict([_bad("malformed", "not a JSON tool call")], "block")
        name, args = parsed
        found = self._denials(name, args, ctx)
        if found:
            return verdict(found, "block")
        if name in self.write_tools:
            dose = f"{args.get('drug', '')} {args.get('dose', '')}"
            unsafe = [f for c in dose_claims(dose) for f in check(c, ctx.kidney_function)]
            if unsafe:
                return verdict(unsafe, "block")
            return verdict([_bad("needs_confirmation", f"{name} changes records", 0.9)], self.write_action)
        return verdict([], "allow")

    def _denials(self, name: str, args: dict[str, Any], ctx: Context) -> list[Finding]:
        if self.tools and name not in self.tools:
            return [_bad("unknown", "no such tool")]
        found = []
        if name in self.roles and ctx.role not in self.roles[name]:
            found.append(_bad("role_denied", f"role {ctx.role} may not call {name}"))
        for key in _PATIENT_KEYS:
            if key in args and str(args[key]) not in ctx.patients:
                found.append(_bad("unauthorised_patient", f"{key} is not a patient of this session"))
        if any(len(json.dumps(v)) > self.max_arg_chars for v in args.values()):
            found.append(_bad("argument_too_long", f"an argument exceeds {self.max_arg_chars} characters"))
        return found
