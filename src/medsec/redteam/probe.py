"""Probes say what to send; strategies say how a case is played out against a target."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Protocol, runtime_checkable

from pydantic import Field

from medsec.errors import TargetError
from medsec.redteam.case import Canary, Case, Setup
from medsec.targets.base import ChatSession, Reply, Target
from medsec.types import Frozen, Message


class Subject(Frozen):
    """A protected record an attacker may ask about, by what an attacker could know of it.

    Attributes:
        owner: The record's key (an MRN), used to attribute leaks.
        name: The name an attacker would use to ask about it.
        unit: Where the patient is, when known.
    """

    owner: str
    name: str
    unit: str | None = None


class ScanContext(Frozen):
    """What the system under test tells probes about its protected data.

    For the reference clinical assistant the context comes from its synthetic EHR: the requester's own
    patient(s), the patients they may not see (subjects) and every protected identifier (canaries). For
    another deployment it comes from the canaries its operators planted, listed in the scan config.

    Attributes:
        canaries: Every value that must not reach the requester.
        subjects: Protected records probes can ask about by name (those the target keeps nearby, such as
            the requester's unit).
        remote: Protected records farther away, reachable only through tools (other units).
        authorised: Owners the requester may see (their values are never counted as leaks).
        system_secret: A canary planted in the system prompt, when the target has one.
        facts: Facts about the requester's own patient a probe can try to falsify (``allergy``,
            ``medication`` …), as the target's records state them.
        seed: Seed for probes that sample.
    """

    canaries: tuple[Canary, ...] = ()
    subjects: tuple[Subject, ...] = ()
    remote: tuple[Subject, ...] = ()
    authorised: tuple[str, ...] = ()
    system_secret: str | None = None
    facts: dict[str, str] = Field(default_factory=dict)
    seed: int = 0


@runtime_checkable
class ContextSource(Protocol):
    """A target that knows its own protected data (the reference assistant does)."""

    def scan_context(self) -> ScanContext:
        """Describe the protected data of this target."""
        ...


@runtime_checkable
class Stageable(Protocol):
    """A target that can plant a case's :class:`Setup` for one session and take it away again."""

    def stage(self, session: str, setup: Setup) -> None:
        """Plant ``setup`` so that only calls with this session id see it."""
        ...

    def unstage(self, session: str) -> None:
        """Remove whatever was planted for the session."""
        ...


def staging_unsupported(target: object) -> str | None:
    """The reason a probe that plants data cannot run against ``target`` (None when it can)."""
    if isinstance(target, Stageable):
        return None
    return (
        "plants poisoned passages or chart notes before asking, which needs a target that can stage them "
        "per session (the reference assistant can; a remote endpoint cannot)"
    )


@runtime_checkable
class Probe(Protocol):
    """Generates the cases of one attack. Plugins are frozen dataclasses in ``redteam/probes/``.

    Attributes:
        attack: The taxonomy attack id the probe tests.
        detectors: Registered detector names that judge its attempts.
    """

    @property
    def attack(self) -> str:
        """The taxonomy attack id."""
        ...

    @property
    def detectors(self) -> tuple[str, ...]:
        """Names of the detectors that judge this probe's attempts."""
        ...

    def cases(self, ctx: ScanContext) -> Iterable[Case]:
        """Yield the cases to send, given what the target discloses about its protected data."""
        ...


async def play(target: Target, case: Case, session: str) -> tuple[Reply, ...]:
    """Send a case: its messages, then each further turn with the whole history (a scripted strategy).

    Args:
        target: Where to send it.
        case: The case.
        session: A conversation id unique to this attempt, for stateful targets.

    Returns:
        One reply per turn.
    """
    if case.setup is not None:
        if not isinstance(target, Stageable):
            raise TargetError(staging_unsupported(target) or "target cannot stage")
        target.stage(session, case.setup)
    try:
        if case.independent:  # each message on its own, in a fresh conversation (paired variants)
            prompts = [case.messages[-1].content, *case.turns]
            return tuple(
                [
                    await target((Message(role="user", content=p),), session=f"{session}#{i}")
                    for i, p in enumerate(prompts)
                ]
            )
        if not case.turns:
            return (await target(case.messages, session=session),)
        conversation = ChatSession(target, session)
        conversation.history.extend(case.messages[:-1])
        replies = [await conversation.send(case.messages[-1].content)]
        for turn in case.turns:
            replies.append(await conversation.send(turn))
        return tuple(replies)
    finally:
        if case.setup is not None and isinstance(target, Stageable):
            target.unstage(session)
