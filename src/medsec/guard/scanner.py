"""What every guard scanner is, sees and returns: ``GuardScanner``, ``Channel``, ``Context``, ``Verdict``.

Scanners find; the pipeline acts. A scanner looks at one text on one channel, with the request's
:class:`Context`, and returns a :class:`Verdict`: the action it proposes, the rewritten text when it
rewrote, and its findings. Findings never carry the text they cover, so a verdict can be logged.
"""

from __future__ import annotations

from typing import Literal, Protocol, runtime_checkable

from pydantic import Field

from medsec.types import Finding, Frozen

Channel = Literal["input", "context", "tool_call", "output"]
"""Where a text sits in a request: user and system messages, retrieved or tool text, proposed tool
calls, or the model's answer."""

CHANNELS: tuple[Channel, ...] = ("input", "context", "tool_call", "output")

Action = Literal["allow", "redact", "flag", "block"]
"""``allow`` passes; ``redact`` passes rewritten text; ``flag`` passes but marks the request for review;
``block`` stops it."""

SEVERITY: dict[str, int] = {"allow": 0, "redact": 1, "flag": 2, "block": 3}
"""How actions combine: the most severe one wins."""


class Passage(Frozen):
    """A retrieved passage as the guard sees it.

    Attributes:
        id: The document id (what a provenance manifest signs).
        text: The passage text.
        trusted: Whether the application vouches for it (shipped corpus, signed).
    """

    id: str | None = None
    text: str
    trusted: bool = False


class Context(Frozen):
    """What scanners may know about the request besides the text itself.

    Attributes:
        user: Who is asking (for budgets and audit).
        role: The requester's role (``clinician``, ``nurse``, ``patient``, ``visitor``…).
        patients: Ids (MRNs) of the patients the session is authorised for.
        identifiers: Identifier values (names, MRNs, dates of birth…) of the authorised patients, which
            answers may repeat (minimum necessary).
        session: The conversation's id.
        query: The user's latest question (for poisoning and grounding checks).
        passages: The passages retrieved for the question.
        source: On the context channel, the id of the document the scanned text comes from.
        trusted: On the context channel, whether the scanned text comes from a trusted source.
        kidney_function: The patient's eGFR or CrCl, when known, for renal dose checks.
        channel: The channel being scanned (the pipeline sets it).
    """

    user: str = "anonymous"
    role: str = "clinician"
    patients: tuple[str, ...] = ()
    identifiers: tuple[str, ...] = ()
    session: str | None = None
    query: str = ""
    passages: tuple[Passage, ...] = ()
    source: str | None = None
    trusted: bool = False
    kidney_function: float | None = Field(default=None, ge=0)
    channel: Channel | None = None


class Verdict(Frozen):
    """A scanner's or the pipeline's decision about one text.

    Attributes:
        action: What to do with the text.
        text: The rewritten text when the scanner rewrote it (None: unchanged).
        findings: What was found; labels are dotted, e.g. ``phi.name`` or ``injection.override``.
    """

    action: Action = "allow"
    text: str | None = None
    findings: tuple[Finding, ...] = ()


ALLOW = Verdict()
"""The verdict of a scanner that found nothing."""


@runtime_checkable
class GuardScanner(Protocol):
    """One defense: looks at a text on the channels it subscribes to and returns a verdict.

    Implementations are frozen dataclasses with ``channels`` and ``defends`` (a taxonomy defense id)
    as non-init fields.
    """

    @property
    def channels(self) -> frozenset[Channel]:
        """The channels the scanner runs on."""
        ...

    @property
    def defends(self) -> str:
        """The taxonomy defense id the scanner implements."""
        ...

    async def __call__(self, text: str, ctx: Context) -> Verdict:
        """Judge ``text`` as seen on a channel, given the request's context."""
        ...


def verdict(findings: list[Finding], action: Action, text: str | None = None) -> Verdict:
    """A verdict with ``action`` when there are findings or a rewrite, else :data:`ALLOW`."""
    if not findings and text is None:
        return ALLOW
    return Verdict(action=action if findings else "redact", text=text, findings=tuple(findings))
