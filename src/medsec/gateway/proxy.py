"""One request through the guard, framework-free: parse, pseudonymise, scan, forward, scan, restore.

An :class:`Exchange` is one request's state: who asks, the guard context, the per-request vault that
maps pseudonyms back to the values the caller sent (in memory only, dropped with the request), and the
verdicts the audit record will list. Offsets in verdicts point into the text the guard scanned (after
pseudonymisation), never at the text itself.
"""

from __future__ import annotations

import asyncio
import copy
import json
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from medsec.errors import MedsecError
from medsec.gateway.audit import AuditFinding, AuditVerdict
from medsec.gateway.auth import Principal
from medsec.guard.guarded import call_json
from medsec.guard.pipeline import Outcome, Pipeline, ScanFinding
from medsec.guard.scanner import Channel, Context
from medsec.guard.scanners.phi import PhiScanner, remembered
from medsec.phi import Mode, PhiSpan, Surrogates, Vault, apply
from medsec.targets.openai import from_wire, wire_message
from medsec.types import Message, ToolCall

FORWARDED = frozenset(
    {
        "model",
        "temperature",
        "top_p",
        "max_tokens",
        "max_completion_tokens",
        "stop",
        "tools",
        "tool_choice",
        "parallel_tool_calls",
        "response_format",
        "seed",
        "presence_penalty",
        "frequency_penalty",
    }
)
"""Request fields passed upstream; others (``user``, ``metadata``, ``n``…) are dropped."""

PHI_THRESHOLD = 0.5


class RejectedError(MedsecError):
    """A request refused before it reached the guard: status, reason code and a PHI-free message."""

    def __init__(self, status: int, code: str, message: str, retry_after: int | None = None) -> None:
        super().__init__(message)
        self.status, self.code, self.retry_after = status, code, retry_after


class ChatRequest:
    """A parsed chat-completions request: the messages, whether to stream, the fields to forward."""

    def __init__(self, messages: tuple[Message, ...], stream: bool, extra: dict[str, Any]) -> None:
        self.messages, self.stream, self.extra = messages, stream, extra


def parse_request(raw: bytes, max_messages: int) -> ChatRequest:
    """Validate a request body without ever echoing its content in an error.

    Raises:
        RejectedError: 400 for malformed JSON or messages, 413 for too many messages.
    """
    try:
        data = json.loads(raw)
    except json.JSONDecodeError as exc:
        raise RejectedError(
            400, "invalid_json", f"body is not valid JSON: {exc.msg} at char {exc.pos}"
        ) from None
    except UnicodeDecodeError:
        raise RejectedError(400, "invalid_json", "body is not UTF-8 JSON") from None
    if not isinstance(data, dict):
        raise RejectedError(400, "invalid_request", "body must be a JSON object")
    raw_messages = data.get("messages")
    if not isinstance(raw_messages, list) or not raw_messages:
        raise RejectedError(400, "invalid_messages", "messages must be a non-empty list")
    if len(raw_messages) > max_messages:
        raise RejectedError(413, "too_many_messages", f"more than {max_messages} messages")
    messages = []
    for i, m in enumerate(raw_messages):
        try:
            messages.append(from_wire(m))
        except (ValueError, TypeError):
            hint = "an object with role system, user, assistant or tool, and text content"
            raise RejectedError(
                400, "invalid_messages", f"messages[{i}] is not a chat message ({hint})"
            ) from None
    stream = data.get("stream", False)
    if not isinstance(stream, bool):
        raise RejectedError(400, "invalid_request", "stream must be true or false")
    extra = {k: v for k, v in data.items() if k in FORWARDED}
    return ChatRequest(tuple(messages), stream, extra)


def fresh(pipeline: Pipeline, memo: dict[str, list[PhiSpan]] | None = None) -> tuple[Pipeline, Vault]:
    """The pipeline with new PHI scanners, and the vault they share: both live for one request only.

    The policy's PHI scanner pseudonymises input with its own vault; the gateway reads that vault to
    pseudonymise the rest of the request with the same tokens and to restore answers. ``memo`` (the
    request's PHI spans by text) is shared the same way, so no text of the request is searched twice.
    """
    vault = Vault()
    steps = []
    for step in pipeline.steps:
        if isinstance(step.scanner, PhiScanner):
            scanner = copy.copy(step.scanner)  # not replace(): that would make a vault only to drop it
            object.__setattr__(scanner, "_vault", vault)  # one vault per request, shared (frozen dataclass)
            object.__setattr__(scanner, "_memo", memo)
            step = replace(step, scanner=scanner)
        steps.append(step)
    return Pipeline(steps=tuple(steps), name=pipeline.name), vault


def _verdict(outcome: Outcome, offset: int = 0) -> AuditVerdict:
    def shift(f: ScanFinding) -> AuditFinding:
        start = f.start + offset if f.start is not None else None
        end = f.end + offset if f.end is not None else None
        return AuditFinding(scanner=f.scanner, label=f.label, score=f.score, start=start, end=end)

    return AuditVerdict(
        channel=outcome.channel, action=outcome.action, findings=tuple(shift(f) for f in outcome.findings)
    )


@dataclass
class Exchange:
    """One request's guard state (see the module docstring).

    Args:
        principal: Who asks.
        pipeline: A per-request copy of the gateway's pipeline (see :func:`fresh`).
        vault: The request's vault (shared with the copy's PHI scanners).
        pseudonymise: Whether PHI bound upstream is replaced by vault tokens.
        fail_open: Whether a guard timeout passes the text.
        guard_timeout_s: Longest one scan may take.
        detected: PHI spans by text, for this request's texts (shared with the copy's PHI scanners).
    """

    principal: Principal
    pipeline: Pipeline
    vault: Vault = field(default_factory=Vault, repr=False)
    pseudonymise: bool = True
    fail_open: bool = False
    guard_timeout_s: float = 5.0
    id: str = field(default_factory=lambda: f"chatcmpl-{uuid.uuid4().hex[:24]}")
    ctx: Context = field(default_factory=Context)
    verdicts: list[AuditVerdict] = field(default_factory=list)
    guard_s: float = 0.0
    flagged: bool = False
    detected: dict[str, list[PhiSpan]] = field(default_factory=dict, repr=False)

    def pseudo(self, text: str) -> str:
        """``text`` with its PHI replaced by this request's vault tokens (unchanged when disabled)."""
        if not self.pseudonymise or not text:
            return text
        spans = [s for s in remembered(self.detected, text) if s.score >= PHI_THRESHOLD]
        return apply(text, spans, Mode.PSEUDONYM, Surrogates(self.vault)) if spans else text

    def reveal(self, text: str) -> str:
        """Tokens back to the values the caller sent (what output scanners judge)."""
        return self.vault.restore(text) if len(self.vault) else text

    def deliver(self, text: str) -> str:
        """Upstream text as the caller may see it: values restored when the principal may see them."""
        return self.reveal(text) if self.principal.restore else text

    async def answer(self, text: str, offset: int = 0) -> tuple[Outcome, str]:
        """Scan an answer (revealed) on the output channel; the outcome and the text to deliver."""
        revealed = self.reveal(text)
        outcome = await self.scan("output", revealed, offset=offset)
        if outcome.text is None or outcome.text == revealed:
            return outcome, self.deliver(text)
        return outcome, outcome.text if self.principal.restore else self.pseudo(outcome.text)

    async def scan(self, channel: Channel, text: str, ctx: Context | None = None, offset: int = 0) -> Outcome:
        """Run the pipeline on one text, under the guard's time limit; record the verdict."""
        start = time.perf_counter()
        try:
            async with asyncio.timeout(self.guard_timeout_s):
                outcome = await self.pipeline.run(channel, text, ctx or self.ctx)
        except TimeoutError:
            finding = ScanFinding(scanner="gateway", label="guard.timeout", score=1.0)
            action = "allow" if self.fail_open else "block"
            outcome = Outcome(channel=channel, action=action, text=text if self.fail_open else None)
            outcome = outcome.model_copy(update={"findings": (finding,)})
        self.guard_s += time.perf_counter() - start
        if outcome.findings or outcome.blocked:
            self.verdicts.append(_verdict(outcome, offset))
        self.flagged |= outcome.action == "flag"
        return outcome

    def _pseudo_message(self, m: Message, content: str) -> Message:
        calls = tuple(c.model_copy(update={"arguments": self.pseudo(c.arguments)}) for c in m.tool_calls)
        return m.model_copy(update={"content": self.pseudo(content), "tool_calls": calls})

    async def guard_messages(self, messages: Sequence[Message]) -> list[Message] | None:
        """Scan every message but the assistant's, then pseudonymise all; None when one is blocked.

        The pipeline sees the caller's text (its PHI scanner pseudonymises with this request's vault);
        what it leaves, and earlier assistant turns, are pseudonymised with the same vault after it.
        """
        question = next((m.content for m in reversed(messages) if m.role == "user"), "")
        self.ctx = Context(
            user=self.principal.id, role=self.principal.role, patients=self.principal.patients, query=question
        )
        out = []
        for m in messages:
            content = m.content
            if m.role != "assistant":
                channel: Channel = "context" if m.role == "tool" else "input"
                scoped = self.ctx.model_copy(update={"source": m.name}) if m.role == "tool" else None
                outcome = await self.scan(channel, m.content, scoped)
                if outcome.blocked or outcome.text is None:
                    return None
                content = outcome.text
            out.append(self._pseudo_message(m, content))
        return out

    async def guard_calls(self, calls: Sequence[ToolCall]) -> tuple[ToolCall, ...] | None:
        """Scan proposed tool calls (revealed); as the caller may see them, or None when one is blocked."""
        for call in calls:
            revealed = call.model_copy(update={"arguments": self.reveal(call.arguments)})
            if (await self.scan("tool_call", call_json(revealed))).blocked:
                return None
        return tuple(c.model_copy(update={"arguments": self.deliver(c.arguments)}) for c in calls)


def upstream_body(request: ChatRequest, messages: Sequence[Message], model: str | None) -> dict[str, Any]:
    """The body sent upstream: the client's forwarded fields with the guarded messages."""
    body = {**request.extra, "messages": [wire_message(m) for m in messages]}
    if model is not None:
        body["model"] = model
    return body


def prompt_text(messages: Sequence[Message]) -> str:
    """The request's messages as one canonical text (what the audit's prompt hash covers)."""
    return json.dumps([m.model_dump(mode="json") for m in messages], sort_keys=True)


def reason_of(ex: Exchange) -> str:
    """The reason code of a block: ``guard_blocked:<channel>:<scanner>``."""
    for v in reversed(ex.verdicts):
        if v.action == "block":
            scanner = v.findings[-1].scanner if v.findings else "guard"
            return f"guard_blocked:{v.channel}:{scanner}"
    return "guard_blocked"
