"""The guard pipeline: run the scanners subscribed to a channel, in order, and decide.

Semantics, in one place:

- scanners run in policy order; each ``redact`` hands its rewritten text to the next scanner;
- ``block`` wins and stops the run (later scanners are not consulted);
- the final action is the most severe one seen (block > flag > redact > allow);
- findings below a step's threshold are dropped; a step's ``actions`` map (label glob → action) overrides
  the action the scanner proposed for the findings it matches;
- a scanner that raises blocks the text (fail-closed) unless its step is ``fail_open``, in which case the
  error is recorded as a ``guard.error`` finding and the text passes.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field
from fnmatch import fnmatchcase

from medsec.guard.scanner import SEVERITY, Action, Channel, Context, GuardScanner, Verdict
from medsec.types import Finding, Frozen

REDACTED = "[REDACTED]"


class ScanFinding(Frozen):
    """One finding of one scanner, as the pipeline reports it (a stable, flat record).

    Attributes:
        scanner: The name of the policy step that found it.
        label: What was found.
        score: Confidence in [0, 1].
        start: Offset into the text the scanner saw, when the finding has a span.
        end: One past the span's last character.
        detail: A short PHI-free explanation.
    """

    scanner: str
    label: str
    score: float
    start: int | None = None
    end: int | None = None
    detail: str | None = None

    @classmethod
    def of(cls, scanner: str, finding: Finding) -> ScanFinding:
        """Tag a scanner's finding with the scanner's name."""
        return cls(scanner=scanner, **finding.model_dump())


class Outcome(Frozen):
    """What the pipeline decided about one text.

    Attributes:
        channel: The channel the text was scanned on.
        action: The most severe action of any step.
        text: The text to forward (rewritten where a step redacted); None when blocked.
        findings: Every kept finding, tagged with its step's name, in run order.
    """

    channel: Channel
    action: Action = "allow"
    text: str | None = None
    findings: tuple[ScanFinding, ...] = ()

    @property
    def blocked(self) -> bool:
        """Whether the text must not be forwarded."""
        return self.action == "block"


@dataclass(frozen=True)
class Step:
    """One scanner in a pipeline, with how the policy wants its findings handled.

    Args:
        name: The name findings are reported under (the registry name, or a policy alias).
        scanner: The scanner.
        channels: The channels it runs on (None: all the scanner subscribes to).
        threshold: Findings scoring below this are dropped.
        actions: ``(label glob, action)`` pairs; the first match decides a finding's action.
        fail_open: Let the text pass when the scanner raises (default: block it).
    """

    name: str
    scanner: GuardScanner
    channels: frozenset[Channel] | None = None
    threshold: float = 0.0
    actions: tuple[tuple[str, Action], ...] = ()
    fail_open: bool = False

    def runs_on(self, channel: Channel) -> bool:
        """Whether this step scans texts on ``channel``."""
        return channel in (self.channels if self.channels is not None else self.scanner.channels)

    def decide(self, proposed: Action, findings: Sequence[Finding]) -> Action:
        """The step's action for the kept findings (the policy's map, else what the scanner proposed)."""
        if not findings:
            return "allow"
        worst: Action = "allow"
        for finding in findings:
            action = next((a for glob, a in self.actions if fnmatchcase(finding.label, glob)), proposed)
            worst = action if SEVERITY[action] > SEVERITY[worst] else worst
        return worst


def _redact_spans(text: str, findings: Sequence[Finding]) -> str:
    """Replace the spans of ``findings`` with a placeholder (policies that redact what a scanner flags)."""
    spans = sorted((f.start, f.end) for f in findings if f.start is not None and f.end is not None)
    out, last = [], 0
    for start, end in spans:
        if start < last:
            continue
        out += [text[last:start], REDACTED]
        last = end
    return "".join(out) + text[last:]


def _error_finding(exc: BaseException) -> Finding:
    return Finding(label="guard.error", score=1.0, detail=f"scanner raised {type(exc).__name__}")


@dataclass(frozen=True)
class Pipeline:
    """Scanners in order; ``await pipeline.run(channel, text, ctx)`` decides about one text.

    Args:
        steps: The steps, in the order they run.
        name: The policy's name, for records.
    """

    steps: tuple[Step, ...] = ()
    name: str = "custom"
    _by_channel: dict[Channel, tuple[Step, ...]] = field(default_factory=dict, init=False, compare=False)

    def steps_for(self, channel: Channel) -> tuple[Step, ...]:
        """The steps that run on ``channel``, in order."""
        if channel not in self._by_channel:
            self._by_channel[channel] = tuple(s for s in self.steps if s.runs_on(channel))
        return self._by_channel[channel]

    async def run(self, channel: Channel, text: str, ctx: Context | None = None) -> Outcome:
        """Scan ``text`` on ``channel`` with every subscribed step and decide.

        Args:
            channel: Where the text sits in the request.
            text: The text.
            ctx: What scanners may know about the request (an empty context if omitted).

        Returns:
            The decision, the text to forward and the findings.
        """
        ctx = (ctx if ctx is not None else Context()).model_copy(update={"channel": channel})
        current, found = text, list[ScanFinding]()
        worst: Action = "allow"
        for step in self.steps_for(channel):
            action, current, kept = await _run_step(step, current, ctx)
            found += (ScanFinding.of(step.name, f) for f in kept)
            worst = action if SEVERITY[action] > SEVERITY[worst] else worst
            if worst == "block":
                return Outcome(channel=channel, action="block", text=None, findings=tuple(found))
        return Outcome(channel=channel, action=worst, text=current, findings=tuple(found))


async def _run_step(step: Step, text: str, ctx: Context) -> tuple[Action, str, list[Finding]]:
    """Run one step: its action, the text after it, and the findings it keeps."""
    try:
        result: Verdict = await step.scanner(text, ctx)
    except Exception as exc:  # noqa: BLE001 - any failure of a defense must fail closed, whatever it is
        return ("allow" if step.fail_open else "block"), text, [_error_finding(exc)]
    kept = [f for f in result.findings if f.score >= step.threshold]
    if result.findings and not kept:
        return "allow", text, []  # everything it found is below the threshold: its rewrite is moot too
    action = step.decide(result.action, kept) if kept else ("redact" if result.text is not None else "allow")
    if action == "redact":
        return action, (result.text if result.text is not None else _redact_spans(text, kept)), kept
    return action, text, kept
