"""``GuardedTarget``: any Target behind a guard pipeline, itself a Target.

Input scanners see the user and system messages, context scanners see tool messages and — after the call,
from ``Reply.trace`` — the tool results and retrieved passages the application used; tool-call scanners see
proposed calls; output scanners see the answer. A block anywhere returns a refusal with finish reason
``content_filter``. The decisions of the last request are kept in :attr:`GuardedTarget.outcomes` (the
``Reply`` type has no field for them yet).
"""

from __future__ import annotations

import json
import re
from collections.abc import Sequence

from medsec.guard.pipeline import Outcome, Pipeline
from medsec.guard.scanner import Channel, Context, Passage
from medsec.targets.base import Reply, Target, Trace
from medsec.types import Finding, Message, ToolCall

REFUSAL = "I can't help with that: the request was stopped by the clinical safety guard."
_PASSAGE = re.compile(r"^\[(kb-[a-z0-9-]+)\] (.+)$", re.MULTILINE)


def passages_from(reply: Reply) -> tuple[Passage, ...]:
    """Retrieved passages as the reference assistant writes them in its context (``[kb-id] text``)."""
    wanted = set(reply.trace.retrieved)
    found = []
    for message in reply.trace.context:
        for m in _PASSAGE.finditer(message.content):
            if not wanted or m.group(1) in wanted:
                found.append(Passage(id=m.group(1), text=m.group(2)))
    return tuple(found)


def call_json(call: ToolCall) -> str:
    """A tool call as the text the tool-call channel scans: ``{"name": …, "arguments": "…json…"}``."""
    return json.dumps({"name": call.name, "arguments": call.arguments})


def findings_of(outcomes: Sequence[Outcome]) -> tuple[Finding, ...]:
    """The pipeline's findings as shared Findings labelled ``channel/scanner/label`` (no text, no PHI)."""
    return tuple(
        Finding(
            label=f"{o.channel}/{f.scanner}/{f.label}",
            score=f.score,
            start=f.start,
            end=f.end,
            detail=f.detail,
        )
        for o in outcomes
        for f in o.findings
    )


class GuardedTarget:
    """A Target whose every request and answer passes through a guard pipeline.

    Args:
        target: The target to protect.
        pipeline: The guard pipeline (e.g. ``load_policy("balanced")``).
        context: What the guard knows about the requester (role, authorised patients, their identifiers).
        refusal: The PHI-free text returned when something is blocked.
    """

    def __init__(
        self, target: Target, pipeline: Pipeline, context: Context | None = None, refusal: str = REFUSAL
    ) -> None:
        self.target = target
        self.pipeline = pipeline
        self.context = context or Context()
        self.refusal = refusal
        self.outcomes: tuple[Outcome, ...] = ()

    def _refuse(self, outcomes: list[Outcome]) -> Reply:
        self.outcomes = tuple(outcomes)
        trace = Trace(guard=findings_of(outcomes))
        return Reply(text=self.refusal, finish_reason="content_filter", model="medsec-guard", trace=trace)

    async def _scan_messages(
        self, messages: Sequence[Message], ctx: Context, outcomes: list[Outcome]
    ) -> list[Message] | None:
        sent = []
        for m in messages:
            if m.role == "assistant":
                sent.append(m)
                continue
            channel: Channel = "context" if m.role == "tool" else "input"
            scoped = ctx.model_copy(update={"source": m.name}) if m.role == "tool" else ctx
            outcome = await self.pipeline.run(channel, m.content, scoped)
            outcomes.append(outcome)
            if outcome.blocked or outcome.text is None:
                return None
            sent.append(m.model_copy(update={"content": outcome.text}))
        return sent

    async def _scan_reply(self, reply: Reply, ctx: Context, outcomes: list[Outcome]) -> Outcome | None:
        """Scan what the application used and proposed, then the answer; None when blocked."""
        checks: list[tuple[Channel, str, Context]]
        checks = [("context", p.text, ctx.model_copy(update={"source": p.id})) for p in ctx.passages]
        checks += [
            ("context", r.result, ctx.model_copy(update={"source": r.call.name})) for r in reply.trace.tools
        ]
        checks += [("tool_call", call_json(r.call), ctx) for r in reply.trace.tools]
        checks += [("tool_call", call_json(c), ctx) for c in reply.tool_calls]
        checks += [("output", reply.text, ctx)]
        for channel, text, scoped in checks:
            outcome = await self.pipeline.run(channel, text, scoped)
            outcomes.append(outcome)
            if outcome.blocked:
                return None
        return outcomes[-1]

    async def __call__(self, messages: Sequence[Message], *, session: str | None = None) -> Reply:
        """Scan the request, call the target, scan what it did and said."""
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        ctx = self.context.model_copy(update={"session": session, "query": question})
        outcomes: list[Outcome] = []
        sent = await self._scan_messages(messages, ctx, outcomes)
        if sent is None:
            return self._refuse(outcomes)
        reply = await self.target(sent, session=session)
        ctx = ctx.model_copy(update={"passages": (*ctx.passages, *passages_from(reply))})
        final = await self._scan_reply(reply, ctx, outcomes)
        if final is None:
            return self._refuse(outcomes)
        self.outcomes = tuple(outcomes)
        trace = reply.trace.model_copy(update={"guard": findings_of(outcomes)})
        return reply.model_copy(
            update={"text": final.text if final.text is not None else reply.text, "trace": trace}
        )
