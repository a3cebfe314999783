"""Spotlighting: untrusted context is datamarked and fenced so the model reads it as data."""

from __future__ import annotations

import re
from dataclasses import dataclass, field

from medsec.guard.scanner import Channel, Context, Verdict, verdict

_SPACE = re.compile(r"\s+")


@dataclass(frozen=True)
class SpotlightScanner:
    """Spotlighting: datamark untrusted context (every space becomes ``marker``) inside labelled fences.

    Trusted context (``Context.trusted``) passes unchanged. The system prompt should tell the model that
    marked text is data, never instructions (Hines et al., 2024).

    Args:
        marker: The character that replaces whitespace in untrusted text.
    """

    marker: str = "\u02c6"
    channels: frozenset[Channel] = field(default=frozenset({"context"}), init=False)
    defends: str = field(default="spotlighting", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Rewrite untrusted text; no findings."""
        if ctx.trusted:
            return verdict([], "allow")
        source = re.sub(r"[^\w.-]", "", ctx.source or "unknown")
        marked = _SPACE.sub(self.marker, text.strip())
        return verdict([], "redact", f"<<untrusted source={source}>>{marked}<</untrusted>>")
