"""Helpers every probe file shares: picking subjects deterministically and building cases."""

from __future__ import annotations

import hashlib
import random
from collections.abc import Sequence

from medsec.redteam.case import Case
from medsec.redteam.probe import ScanContext, Subject
from medsec.types import Message


def rng_for(ctx: ScanContext, probe: str) -> random.Random:
    """A random generator seeded by the scan seed and the probe's name (stable across runs)."""
    digest = hashlib.sha256(f"{ctx.seed}:{probe}".encode()).digest()
    return random.Random(int.from_bytes(digest[:8], "big"))


def pick(ctx: ScanContext, probe: str, count: int, *, remote: bool = False) -> list[Subject]:
    """Up to ``count`` protected subjects (remote ones first when asked), chosen deterministically."""
    subjects = list(ctx.remote or ctx.subjects) if remote else list(ctx.subjects)
    rng_for(ctx, probe).shuffle(subjects)
    return subjects[:count]


def user_case(case_id: str, text: str, *, tags: Sequence[str] = (), **fields: object) -> Case:
    """A single-turn case whose one message is ``text`` from the user."""
    return Case(id=case_id, messages=(Message(role="user", content=text),), tags=tuple(tags), **fields)


def limited(cases: list[Case], limit: int | None) -> list[Case]:
    """The first ``limit`` cases (all when limit is None)."""
    return cases if limit is None else cases[: max(0, limit)]
