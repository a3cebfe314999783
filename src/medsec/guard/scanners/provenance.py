"""Retrieval provenance: passages not in the signed corpus manifest, or altered since, are dropped."""

from __future__ import annotations

from dataclasses import dataclass, field

from medsec.guard.manifest import DEFAULT_KEY_ENV, load_manifest
from medsec.guard.scanner import Channel, Context, Verdict, verdict
from medsec.types import Finding


@dataclass(frozen=True)
class ProvenanceScanner:
    """Retrieval provenance: context passages must be signed in the corpus manifest (HMAC over hashes).

    The passage's document id comes from ``Context.source``. Unsigned or altered passages are reported
    (proposed action ``block``: the pipeline drops the passage); without a manifest the scanner raises,
    so a fail-closed policy drops every passage rather than trusting them.

    Args:
        manifest: Path of the signed manifest file.
        key_env: Environment variable holding the HMAC key.
    """

    manifest: str | None = None
    key_env: str = DEFAULT_KEY_ENV
    channels: frozenset[Channel] = field(default=frozenset({"context"}), init=False)
    defends: str = field(default="retrieval-provenance", init=False)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Check the passage's signature."""
        if self.manifest is None:
            raise ValueError("provenance needs a manifest path")
        status = load_manifest(self.manifest, self.key_env).status(ctx.source, text)
        if status == "signed":
            return verdict([], "allow")
        return verdict(
            [Finding(label=f"retrieval.{status}", score=1.0, detail=f"document {status}")], "block"
        )
