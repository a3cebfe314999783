"""The async scan engine: plan attempts, send them under a concurrency limit, judge and store each."""

from __future__ import annotations

import asyncio
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass

from medsec.errors import TargetError
from medsec.redteam.case import Attempt, Case, Judgement, decide
from medsec.redteam.detector import Detector
from medsec.redteam.probe import Probe, ScanContext, play
from medsec.redteam.store import Store
from medsec.targets.base import Reply, Target


@dataclass(frozen=True)
class PlannedAttempt:
    """One attempt to make: which probe, which case, which repeat."""

    key: str
    probe_name: str
    probe: Probe
    case: Case


def plan(probes: Mapping[str, Probe], ctx: ScanContext, repeats: int = 1) -> list[PlannedAttempt]:
    """Expand probes into the attempts of a scan, each with a key that is stable across resumes."""
    items = []
    for name, probe in probes.items():
        seen: set[str] = set()
        for case in probe.cases(ctx):
            if case.id in seen:
                raise ValueError(f"probe {name!r} yields case id {case.id!r} twice")
            seen.add(case.id)
            for repeat in range(repeats):
                key = f"{name}/{case.id}" + (f"#{repeat}" if repeats > 1 else "")
                items.append(PlannedAttempt(key=key, probe_name=name, probe=probe, case=case))
    return items


async def judge(attempt: Attempt, detectors: Mapping[str, Detector]) -> Attempt:
    """Run the probe's detectors on an attempt and set its outcome."""
    judgements = []
    for name, detector in detectors.items():
        try:
            verdict = await detector(attempt)
        except Exception as exc:  # noqa: BLE001 - a broken detector must not lose the attempt
            verdict = Judgement(detector=name, success=None, detail=f"detector failed: {type(exc).__name__}")
        judgements.append(verdict.model_copy(update={"detector": name}))
    verdicts = tuple(judgements)
    return attempt.model_copy(update={"judgements": verdicts, "outcome": decide(verdicts, attempt.error)})


async def attempt_one(
    target: Target,
    item: PlannedAttempt,
    detectors: Mapping[str, Detector],
    session: str,
    extra: tuple[str, ...] = (),
) -> Attempt:
    """Send one planned attempt and judge it; a target failure becomes an ``error`` attempt."""
    replies: tuple[Reply, ...] = ()
    error = None
    try:
        replies = await play(target, item.case, session)
    except TargetError as exc:
        error = str(exc)
    except Exception as exc:  # noqa: BLE001 - record and go on; the message may hold PHI, so the type only
        error = f"unexpected {type(exc).__name__} from the target"
    attempt = Attempt(
        key=item.key,
        probe=item.probe_name,
        attack=item.probe.attack,
        case=item.case,
        replies=replies,
        error=error,
        outcome="error" if error else "unjudged",
    )
    if error:
        return attempt
    return await judge(attempt, {d: detectors[d] for d in (*item.probe.detectors, *extra)})


async def execute(
    target: Target,
    items: Iterable[PlannedAttempt],
    detectors: Mapping[str, Detector],
    store: Store,
    run_id: str,
    concurrency: int = 4,
    on_attempt: Callable[[Attempt], None] | None = None,
    extra: tuple[str, ...] = (),
) -> None:
    """Run planned attempts with at most ``concurrency`` in flight, storing each as soon as it is judged.

    Args:
        target: The system under test.
        items: The attempts to make (already filtered for resumption).
        detectors: Every detector a probe may name, by name.
        store: Where attempts are committed.
        run_id: The run they belong to.
        concurrency: Most attempts in flight at once.
        on_attempt: Called with each stored attempt (progress display).
        extra: Detectors to run on every attempt besides each probe's own (an opt-in model judge).
    """
    limit = asyncio.Semaphore(max(1, concurrency))
    writing = asyncio.Lock()  # one writer at a time, off the event loop, each attempt its own commit
    done = store.outcomes(run_id)

    async def one(item: PlannedAttempt) -> None:
        async with limit:
            attempt = await attempt_one(target, item, detectors, f"{run_id}/{item.key}", extra)
        async with writing:
            await asyncio.to_thread(store.append, run_id, attempt, replace=item.key in done)
        if on_attempt is not None:
            on_attempt(attempt)

    async with asyncio.TaskGroup() as group:
        for item in items:
            group.create_task(one(item))
