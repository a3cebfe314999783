"""PHI: pseudonymise or redact identifiers going out; on answers, block other patients' identifiers."""

from __future__ import annotations

from dataclasses import dataclass, field

from medsec.guard.scanner import Channel, Context, Verdict, verdict
from medsec.phi import Mode, PhiSpan, PhiType, Surrogates, Vault, apply, detect
from medsec.types import Finding

_ALL: frozenset[Channel] = frozenset({"input", "context", "output"})
# identifiers that single out a person on their own; dates and ages alone are flagged, not blocked
_DIRECT = frozenset(PhiType) - {PhiType.DATE, PhiType.AGE, PhiType.LOCATION, PhiType.FACILITY, PhiType.ZIP}


def _key(value: str) -> str:
    return "".join(c for c in value.lower() if c.isalnum())


def _finding(span: PhiSpan, detail: str | None = None) -> Finding:
    return Finding(
        label=f"phi.{span.type.value.lower()}",
        score=span.score,
        start=span.start,
        end=span.end,
        detail=detail,
    )


def remembered(memo: dict[str, list[PhiSpan]], text: str) -> list[PhiSpan]:
    """``medsec.phi.detect(text)``, looked up in ``memo`` first and stored there when new."""
    spans = memo.get(text)
    if spans is None:
        spans = memo[text] = detect(text)
    return spans


@dataclass(frozen=True)
class PhiScanner:
    """PHI: redact or pseudonymise identifiers in input and context; block other patients' ones in answers.

    Input and context are rewritten (``mode``) before they leave for a model. On output, identifiers of
    the authorised patients (``Context.identifiers``) and values the user sent (kept in the vault) pass;
    any other direct identifier blocks the answer (minimum necessary), dates and ages are flagged.

    Args:
        mode: ``redact``, ``pseudonym``, ``surrogate`` or ``mask`` for input and context.
        threshold: Spans scoring below this are ignored.
    """

    mode: Mode = Mode.PSEUDONYM
    threshold: float = 0.5
    channels: frozenset[Channel] = field(default=_ALL, init=False)
    defends: str = field(default="phi-deidentification", init=False)
    _vault: Vault = field(default_factory=Vault, init=False, compare=False, repr=False)
    _memo: dict[str, list[PhiSpan]] | None = field(default=None, init=False, compare=False, repr=False)

    def detect(self, text: str) -> list[PhiSpan]:
        """``medsec.phi.detect(text)``, remembered in ``_memo`` when one is set.

        A gateway request's copy of this scanner shares its memo with the gateway, which pseudonymises the
        same texts again after the pipeline; the memo lives as long as the request.
        """
        return detect(text) if self._memo is None else remembered(self._memo, text)

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Rewrite identifiers (input side) or judge them (answers: ``ctx`` says whose are allowed)."""
        spans = [s for s in self.detect(text) if s.score >= self.threshold]
        if not spans:
            return verdict([], "allow")
        if ctx.channel == "output":
            return self._judge(text, spans, ctx)
        rewritten = apply(text, spans, self.mode, Surrogates(self._vault))
        return verdict([_finding(s) for s in spans], "redact", rewritten)

    def _judge(self, text: str, spans: list[PhiSpan], ctx: Context) -> Verdict:
        allowed = {_key(v) for v in (*ctx.identifiers, *ctx.patients, *self._vault.export().values())}
        found, action = [], "allow"
        for span in spans:
            value = _key(text[span.start : span.end])
            # allowed: the value itself, part of an allowed value, or a span that a detector widened around
            # an allowed value (a capitalised word before a name: "Summarise John Smith")
            if value in allowed or any(value and value in a for a in allowed if len(value) >= 4):
                continue
            if any(len(a) >= 6 and a in value for a in allowed):
                continue
            direct = span.type in _DIRECT
            found.append(_finding(span, "not an identifier of an authorised patient" if direct else None))
            action = "block" if direct else ("flag" if action == "allow" else action)
        return verdict(found, action)  # type: ignore[arg-type]
