"""Targets as the efficacy run sees them: timed end to end, and guarded without losing what they disclose.

``GuardedTarget`` keeps the application's latency in ``Reply.latency_s`` (and 0 for a blocked reply), so
the time the guard adds would be invisible; :func:`timed` measures each call end to end instead. The
wrapper still answers the scanner's questions (``scan_context``, ``stage``) from the application behind it.
"""

from __future__ import annotations

import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from medsec.redteam.case import Setup
from medsec.redteam.probe import ContextSource, ScanContext, Stageable
from medsec.targets.base import Reply, Target
from medsec.types import Message, Spec


@dataclass(frozen=True)
class Timed:
    """Calls ``call`` and records the wall-clock seconds of the whole call in ``Reply.latency_s``.

    Args:
        call: What answers (the guarded application).
        app: The application behind it, which describes its protected data and stages set-ups.
    """

    call: Target
    app: Any = None

    async def __call__(self, messages: Sequence[Message], *, session: str | None = None) -> Reply:
        """Answer through ``call``, timed."""
        start = time.perf_counter()
        reply = await self.call(messages, session=session)
        return reply.model_copy(update={"latency_s": time.perf_counter() - start})

    async def aclose(self) -> None:
        """Close whatever the wrapped targets hold open."""
        for part in dict.fromkeys([id(self.call), id(self.app)]):
            target = self.call if part == id(self.call) else self.app
            close = getattr(target, "aclose", None)
            if close is not None:
                await close()


class _Describes:
    app: Any

    def scan_context(self) -> ScanContext:
        """What the application behind the guard discloses about its protected data."""
        context: ScanContext = self.app.scan_context()
        return context


class _Stages:
    app: Any

    def stage(self, session: str, setup: Setup) -> None:
        """Plant a set-up in the application behind the guard."""
        self.app.stage(session, setup)

    def unstage(self, session: str) -> None:
        """Remove it again."""
        self.app.unstage(session)


@dataclass(frozen=True)
class _TimedDescribes(_Describes, Timed):
    """Timed, for an application that describes its protected data."""


@dataclass(frozen=True)
class _TimedStages(_Stages, Timed):
    """Timed, for an application that stages set-ups."""


@dataclass(frozen=True)
class _TimedBoth(_Describes, _Stages, Timed):
    """Timed, for an application that does both (the reference assistant)."""


def timed(call: Target, app: object | None = None) -> Timed:
    """Time ``call`` end to end, exposing the capabilities of ``app`` (default: ``call`` itself)."""
    app = call if app is None else app
    describes, stages = isinstance(app, ContextSource), isinstance(app, Stageable)
    kind = {
        (False, False): Timed,
        (True, False): _TimedDescribes,
        (False, True): _TimedStages,
        (True, True): _TimedBoth,
    }[describes, stages]
    return kind(call=call, app=app)


def guarded(app: Target, policy: str | None) -> Timed:
    """``app`` behind a guard policy (or bare when ``policy`` is None), timed end to end."""
    if policy is None:
        return timed(app)
    from medsec.guard import GuardedTarget, load_policy

    return timed(GuardedTarget(app, load_policy(policy)), app=app)


def spec_with_policy(spec: Spec, policy: str | None) -> Spec:
    """The target spec a configuration records: the base spec plus ``policy`` when one is set."""
    if policy is None:
        return spec
    return spec.model_copy(update={"args": {**spec.args, "policy": policy}})


def build_target(spec: Spec, policy: str | None) -> Timed:
    """Build a target guarded by ``policy`` (None: undefended), timed end to end.

    The clinic takes the policy itself (its guard knows the requester); any other target is wrapped in a
    ``GuardedTarget``.
    """
    from medsec.targets import TARGETS

    if spec.name == "clinic":
        return timed(TARGETS.create(spec_with_policy(spec, policy)))
    return guarded(TARGETS.create(spec), policy)
