"""What every target is and returns: the ``Target`` protocol, ``Reply``, and conversation sessions."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol, runtime_checkable

from pydantic import Field

from medsec.types import Finding, Frozen, Message, ToolCall


class Usage(Frozen):
    """Token counts of one reply, as the target reported them (0 when it did not)."""

    prompt_tokens: int = Field(default=0, ge=0)
    completion_tokens: int = Field(default=0, ge=0)

    @property
    def total_tokens(self) -> int:
        """Prompt plus completion tokens."""
        return self.prompt_tokens + self.completion_tokens


class ToolResult(Frozen):
    """A tool call an application executed, and whether it was allowed."""

    call: ToolCall
    allowed: bool
    result: str = ""


class Trace(Frozen):
    """What an application did to answer: retrieved passages, executed tool calls, the context it sent.

    Targets that wrap a whole application (the reference clinical assistant) fill it; plain model
    endpoints leave it empty. Detectors read it to judge tool-call and retrieval attacks. ``guard`` holds
    what a guard pipeline in front of the target found, labelled ``channel/scanner/label``.
    """

    retrieved: tuple[str, ...] = ()
    tools: tuple[ToolResult, ...] = ()
    context: tuple[Message, ...] = ()
    guard: tuple[Finding, ...] = ()


class Reply(Frozen):
    """A target's answer to one list of messages.

    Attributes:
        text: The answer's text ("" when the model only proposed tool calls).
        tool_calls: Tool calls the model proposed and the target did not execute itself.
        finish_reason: Why generation stopped (``stop``, ``length``, ``tool_calls``, ``content_filter``).
        usage: Token counts.
        latency_s: Wall-clock seconds from request to complete answer, retries included.
        model: The model that answered, when known.
        trace: What a wrapped application did, when the target exposes it.
    """

    text: str
    tool_calls: tuple[ToolCall, ...] = ()
    finish_reason: str | None = None
    usage: Usage = Usage()
    latency_s: float = Field(default=0.0, ge=0.0)
    model: str | None = None
    trace: Trace = Trace()


@runtime_checkable
class Target(Protocol):
    """Something that answers chat messages: a model endpoint, a local model, or a whole application."""

    async def __call__(self, messages: Sequence[Message], *, session: str | None = None) -> Reply:
        """Answer ``messages``; ``session`` names a conversation for targets that keep state."""
        ...


class ChatSession:
    """A multi-turn conversation with a target: keeps the history and sends it with every turn.

    Stateful applications also receive the session id, so they can keep their own state.

    Args:
        target: The target to talk to.
        session_id: The conversation's id, passed to the target on every turn.
        system: An optional system message that opens the conversation.
    """

    def __init__(self, target: Target, session_id: str, system: str | None = None) -> None:
        self.target = target
        self.session_id = session_id
        self.history: list[Message] = [Message(role="system", content=system)] if system else []
        self.replies: list[Reply] = []

    async def send(self, text: str) -> Reply:
        """Send one user turn and record the answer in the history."""
        self.history.append(Message(role="user", content=text))
        reply = await self.target(tuple(self.history), session=self.session_id)
        self.history.append(Message(role="assistant", content=reply.text, tool_calls=reply.tool_calls))
        self.replies.append(reply)
        return reply
