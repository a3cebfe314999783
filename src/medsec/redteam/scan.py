"""A whole scan: configuration in, a stored run out. The CLI and the library both call ``run_scan``."""

from __future__ import annotations

import platform
import subprocess
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from pydantic import Field

from medsec._version import __version__
from medsec.config import load_config
from medsec.errors import ConfigError
from medsec.redteam.case import Attempt
from medsec.redteam.detectors import DETECTORS
from medsec.redteam.probe import ContextSource, Probe, ScanContext
from medsec.redteam.probes import PROBES, SUITES
from medsec.redteam.run import PlannedAttempt, execute, plan
from medsec.redteam.store import RunInfo, Store, new_run_id, now
from medsec.targets import TARGETS
from medsec.targets.base import Target
from medsec.taxonomy import load_taxonomy
from medsec.types import Frozen, Spec, SpecArg


class ScanConfig(Frozen):
    """Everything a scan needs; a YAML file or the CLI's flags fill it.

    Attributes:
        target: The target's Spec (``"clinic:mode=naive"``, ``"openai:base_url=…,model=…"``).
        suite: A named probe selection, used when ``probes`` is empty.
        probes: Probe specs to run instead of a suite.
        only: Keep only these probe names.
        objective: Keep only probes whose attack has this objective.
        concurrency: Most attempts in flight.
        repeats: Times each case is sent.
        seed: Seed for probes that sample.
        context: A YAML file describing the target's planted canaries (for targets that do not describe
            their own protected data).
        judge: A target spec for an optional model judge that grades every attempt besides the
            deterministic detectors (off by default).
    """

    target: SpecArg = Spec(name="clinic")
    suite: str = "smoke"
    probes: tuple[SpecArg, ...] = ()
    only: tuple[str, ...] = ()
    objective: str | None = None
    concurrency: int = Field(default=4, ge=1, le=1024)
    repeats: int = Field(default=1, ge=1, le=100)
    seed: int = 0
    context: str | None = None
    judge: str | None = None


def select_probes(config: ScanConfig) -> dict[str, Spec]:
    """The probe specs a config selects, by probe name.

    Raises:
        ConfigError: For an unknown suite, probe or objective, or a selection that leaves nothing.
    """
    if config.probes:
        specs = list(config.probes)
    elif config.suite in SUITES:
        specs = list(SUITES[config.suite])
    else:
        raise ConfigError(f"unknown suite {config.suite!r}; choose one of: {', '.join(SUITES)}")
    for name in config.only:
        if name not in PROBES:
            PROBES.factory(name)  # raises with close-name suggestions
        if all(s.name != name for s in specs):
            specs.append(Spec(name=name))
    chosen = {s.name: s for s in specs if not config.only or s.name in config.only}
    if config.objective is not None:
        tax = load_taxonomy()
        if config.objective not in {o.id for o in tax.objectives}:
            raise ConfigError(f"unknown objective {config.objective!r}")
        attacks = {a.id for a in tax.attacks if config.objective in a.objectives}
        chosen = {n: s for n, s in chosen.items() if PROBES.create(s).attack in attacks}
    if not chosen:
        raise ConfigError("the selection leaves no probe to run")
    return chosen


def scan_context(target: Target, config: ScanConfig) -> ScanContext:
    """What the target discloses about its protected data, or what the config's context file says."""
    if config.context:
        ctx = load_config(ScanContext, config.context)
        return ctx.model_copy(update={"seed": config.seed})
    if isinstance(target, ContextSource):
        return target.scan_context().model_copy(update={"seed": config.seed})
    return ScanContext(seed=config.seed)


def _git_revision() -> str | None:
    try:
        out = subprocess.run(
            ["git", "rev-parse", "HEAD"], cwd=Path(__file__).parent, capture_output=True, text=True, timeout=5
        )
    except (OSError, subprocess.SubprocessError):
        return None
    return out.stdout.strip() or None if out.returncode == 0 else None


def run_info(config: ScanConfig, probes: dict[str, Spec], run_id: str | None = None) -> RunInfo:
    """The record of a new run: specs, versions, seed and source revision."""
    return RunInfo(
        id=run_id or new_run_id(),
        created_at=now(),
        target=config.target.model_dump(mode="json"),
        probes={n: s.model_dump(mode="json") for n, s in probes.items()},
        detectors=tuple(DETECTORS),
        seed=config.seed,
        versions={"medsec": __version__, "python": platform.python_version()},
        git_revision=_git_revision(),
        settings=config.model_dump(mode="json", exclude={"target", "probes"}),
    )


def config_of(info: RunInfo) -> ScanConfig:
    """Rebuild the config a stored run was started with (what ``--resume`` uses)."""
    settings = {k: v for k, v in info.settings.items() if k in ScanConfig.model_fields}
    return ScanConfig.model_validate(
        {**settings, "target": info.target, "probes": list(info.probes.values()), "seed": info.seed}
    )


def build(
    config: ScanConfig, probes: dict[str, Spec], target: Target | None = None
) -> tuple[Target, dict[str, Probe], ScanContext]:
    """Build the target (unless one is given) and probes a config names, and the scan context."""
    target = target if target is not None else TARGETS.create(config.target)
    built = {name: PROBES.create(spec) for name, spec in probes.items()}
    return target, built, scan_context(target, config)


def pending(
    items: list[PlannedAttempt], store: Store, run_id: str, retry_errors: bool
) -> list[PlannedAttempt]:
    """The planned attempts a resumed run still has to make."""
    done = store.outcomes(run_id)
    return [i for i in items if i.key not in done or (retry_errors and done[i.key] == "error")]


async def run_scan(
    config: ScanConfig,
    store: Store,
    *,
    resume: str | None = None,
    retry_errors: bool = False,
    target: Target | None = None,
    on_plan: Callable[[int, int], None] | None = None,
    on_attempt: Callable[[Attempt], None] | None = None,
) -> RunInfo:
    """Run (or resume) a scan and return its stored info.

    Args:
        config: What to scan (ignored when resuming: the stored run's config is used).
        store: Where the run is stored.
        resume: A run id (or ``latest``) to finish instead of starting anew.
        retry_errors: When resuming, also redo attempts whose target call failed.
        on_plan: Called with (attempts to make, attempts already done) before sending.
        on_attempt: Called with each stored attempt.
        target: An already built target to scan instead of the one ``config.target`` names (for
            applications in the same process); the config's target spec is still what is recorded.
    """
    prepared = _prepare(config, store, resume, target)
    info, config, target = prepared.info, prepared.config, prepared.target
    todo = pending(prepared.items, store, info.id, retry_errors)
    if on_plan is not None:
        on_plan(len(todo), len(prepared.items) - len(todo))
    store.set_status(info.id, "running")
    try:
        extra = ("judge",) if config.judge else ()
        await execute(target, todo, prepared.detectors, store, info.id, config.concurrency, on_attempt, extra)
    except BaseException:
        store.set_status(info.id, "interrupted")
        raise
    finally:
        close = getattr(target, "aclose", None)
        if close is not None:
            await close()
    store.set_status(info.id, "finished")
    return store.run(info.id)


@dataclass(frozen=True)
class _Prepared:
    info: RunInfo
    config: ScanConfig
    target: Target
    items: list[PlannedAttempt]
    detectors: dict[str, Any]


def _prepare(config: ScanConfig, store: Store, resume: str | None, target: Target | None) -> _Prepared:
    """Build everything a (new or resumed) run needs; a new run is stored only once it has work.

    Raises:
        ConfigError: When the selected probes yield no case for this target.
    """
    info: RunInfo | None = None
    if resume:
        info = store.run(resume)
        config = config_of(info)
        specs = {n: Spec.model_validate(s) for n, s in info.probes.items()}
    else:
        specs = select_probes(config)
    built_target, probes, ctx = build(config, specs, target)
    skipped = skips(probes, built_target)
    items = plan({n: p for n, p in probes.items() if n not in skipped}, ctx, config.repeats)
    if info is None:
        if not items:
            reasons = "; ".join(f"{n}: {r}" for n, r in skipped.items())
            raise ConfigError(
                "the selected probes yield no attack for this target: it describes no protected data "
                "(canaries, subjects, a system-prompt secret); list them in a context file (`context:` in "
                "the scan config)" + (f". Skipped: {reasons}" if reasons else "")
            )
        info = run_info(config, specs)
        store.create_run(info)
        if skipped:
            info = store.note_skips(info.id, skipped)
    detectors = {name: _bind(DETECTORS.create(name), ctx) for name in DETECTORS if name != "judge"}
    if config.judge:
        detectors["judge"] = DETECTORS.create(Spec(name="judge", args={"target": config.judge}))
    return _Prepared(info=info, config=config, target=built_target, items=items, detectors=detectors)


def skips(probes: dict[str, Probe], target: Target) -> dict[str, str]:
    """Probes that cannot run against this target, with the reason each gives."""
    out = {}
    for name, probe in probes.items():
        check = getattr(probe, "unsupported", None)
        reason = check(target) if callable(check) else None
        if reason:
            out[name] = str(reason)
    return out


def _bind(detector: Any, ctx: ScanContext) -> Any:
    bind = getattr(detector, "bind", None)
    return bind(ctx) if callable(bind) else detector
