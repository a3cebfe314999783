"""``evaluate_defenses``: one suite against a target undefended and under each policy and layer.

Every configuration is two stored runs in the ordinary run store: the attack suite (a normal scan) and
the benign utility set. A configuration whose runs already exist with the same target, probes and seed is
reused, and an interrupted one is resumed, so an evaluation is reproducible and can be stopped at will.
"""

from __future__ import annotations

import platform
from collections.abc import Callable
from pathlib import Path
from typing import Any

from pydantic import Field, field_validator

from medsec._version import __version__
from medsec.config import medsec_home
from medsec.efficacy.assess import Arm, EfficacyResult, assess
from medsec.efficacy.benign import SETS, BenignSet
from medsec.efficacy.grade import Utility
from medsec.efficacy.layers import BASELINE, Layer, layers
from medsec.efficacy.targets import Timed, build_target, spec_with_policy
from medsec.errors import ConfigError
from medsec.redteam.probe import ScanContext
from medsec.redteam.run import execute, plan
from medsec.redteam.scan import ScanConfig, pending, run_scan, select_probes
from medsec.redteam.store import RunInfo, Store, new_run_id, now
from medsec.taxonomy import load_taxonomy
from medsec.types import Frozen, Spec, SpecArg

TargetFactory = Callable[[str | None], Timed]
"""Builds the system under test guarded by a policy file (None: undefended)."""


class EfficacyConfig(Frozen):
    """What ``medsec evaluate-defenses`` runs; a YAML file or the CLI's flags fill it.

    Attributes:
        target: The system under test (``clinic:mode=hardened`` by default).
        suite: The attack suite (``smoke``, ``standard``, ``full``), used when ``probes`` is empty.
        probes: Probe specs to run instead of a suite.
        policies: Guard policies to evaluate (shipped names or files).
        layers: Also evaluate each step of each policy alone.
        baseline: Also evaluate the target undefended (needed for reductions and added latency).
        benign: Benign sets to measure utility on (``clinical``, ``medqa``, ``medmcqa``, ``mmlu``,
            ``pubmedqa``, ``medquad``); public sets need ``benign_data``.
        benign_n: Sample size per public set.
        clinical_n: Sample size of medsec's own clinical questions (None: all of them).
        benign_data: The shared benchmark data directory (``…/shared/data/benign``).
        concurrency: Requests in flight; 1 keeps latencies free of queueing.
        repeats: Times each attack case is sent.
        seed: Seed for probes and samples.
        context: A YAML file describing the target's planted canaries (for targets that do not describe
            their own protected data), as for ``medsec scan``.
        reuse: Reuse (or resume) stored runs of identical configurations instead of starting anew.
        policy_dir: Where derived single-layer policies are written (default ``$MEDSEC_HOME/efficacy``).
    """

    target: SpecArg = Spec(name="clinic", args={"mode": "hardened"})
    suite: str = "smoke"
    probes: tuple[SpecArg, ...] = ()
    policies: tuple[str, ...] = ("balanced",)
    layers: bool = True
    baseline: bool = True
    benign: tuple[str, ...] = ("clinical", "medqa", "pubmedqa", "medquad")
    benign_n: int = Field(default=10, ge=0, le=10_000)
    clinical_n: int | None = Field(default=None, ge=1)
    benign_data: str | None = None
    concurrency: int = Field(default=1, ge=1, le=256)
    repeats: int = Field(default=1, ge=1, le=100)
    seed: int = 0
    context: str | None = None
    reuse: bool = True
    policy_dir: str | None = None

    @field_validator("benign")
    @classmethod
    def _known_sets(cls, value: tuple[str, ...]) -> tuple[str, ...]:
        unknown = [s for s in value if s not in SETS]
        if unknown:
            raise ValueError(f"unknown benign set(s) {', '.join(unknown)}; choose from {', '.join(SETS)}")
        return value


def configurations(config: EfficacyConfig) -> tuple[Layer, ...]:
    """The configurations to evaluate: the baseline, then each policy's layers and the whole policy."""
    directory = Path(config.policy_dir) if config.policy_dir else medsec_home() / "efficacy" / "policies"
    found: list[Layer] = [BASELINE] if config.baseline else []
    for policy in config.policies:
        found += [c for c in layers(policy, directory, alone=config.layers) if c not in found]
    if not found:
        raise ConfigError("nothing to evaluate: give a policy or keep the undefended baseline")
    return tuple(found)


def benign_sets(config: EfficacyConfig) -> tuple[dict[str, BenignSet], tuple[str, ...]]:
    """The benign sets to run by probe name, and notes on any dropped for lack of data."""
    notes: list[str] = []
    sets = {}
    for source in config.benign:
        if source != "clinical" and config.benign_data is None:
            notes.append(f"benign set {source} skipped: no benign data directory given")
            continue
        if source != "clinical" and config.benign_n == 0:
            continue
        n = config.clinical_n if source == "clinical" else config.benign_n
        sets[f"benign-{source}"] = BenignSet(source, n, config.seed, config.benign_data)
    return sets, tuple(notes)


def _matching(store: Store, target: Spec, probes: dict[str, Any], seed: int) -> RunInfo | None:
    want = target.model_dump(mode="json")
    for info in store.runs():
        if info.target == want and info.probes == probes and info.seed == seed:
            return info
    return None


async def _attack_run(config: EfficacyConfig, layer: Layer, store: Store, target: Timed) -> str:
    spec = spec_with_policy(config.target, layer.policy)
    scan = ScanConfig(
        target=spec,
        suite=config.suite,
        probes=config.probes,
        concurrency=config.concurrency,
        repeats=config.repeats,
        seed=config.seed,
        context=config.context,
    )
    probes = {n: s.model_dump(mode="json") for n, s in select_probes(scan).items()}
    found = _matching(store, spec, probes, config.seed) if config.reuse else None
    if found is not None and found.status == "finished" and found.settings.get("repeats") == config.repeats:
        return found.id
    resume = found.id if found is not None else None
    info = await run_scan(scan, store, resume=resume, target=target)
    return info.id


async def _benign_run(config: EfficacyConfig, layer: Layer, store: Store, target: Timed) -> str | None:
    sets, _ = benign_sets(config)
    if not sets:
        return None
    spec = spec_with_policy(config.target, layer.policy)
    specs = {
        n: {"name": n, "args": {"n": b.n, "seed": b.seed, "data_dir": b.data_dir}} for n, b in sets.items()
    }
    info = _matching(store, spec, specs, config.seed) if config.reuse else None
    if info is None:
        info = RunInfo(
            id=new_run_id(),
            created_at=now(),
            target=spec.model_dump(mode="json"),
            probes=specs,
            detectors=("utility",),
            seed=config.seed,
            versions={"medsec": __version__, "python": platform.python_version()},
            settings={"efficacy": "benign", "concurrency": config.concurrency},
        )
        store.create_run(info)
    todo = pending(plan(sets, ScanContext(seed=config.seed)), store, info.id, retry_errors=False)
    if todo or info.status != "finished":
        store.set_status(info.id, "running")
        try:
            await execute(target, todo, {"utility": Utility()}, store, info.id, config.concurrency)
        except BaseException:
            store.set_status(info.id, "interrupted")
            raise
        store.set_status(info.id, "finished")
    return info.id


async def evaluate_defenses(
    config: EfficacyConfig,
    store: Store | None = None,
    *,
    factory: TargetFactory | None = None,
    on_configuration: Callable[[Layer, int, int], None] | None = None,
) -> EfficacyResult:
    """Run the attack suite and the benign sets under every configuration, then assess what is stored.

    Args:
        config: What to evaluate.
        store: The run store (default: the SQLite store under ``$MEDSEC_HOME``).
        factory: Builds the guarded target for a policy path (default: from ``config.target``).
        on_configuration: Called with (configuration, index, count) before each one runs.

    Returns:
        The assessment: the defense × attack matrix, utility and latency per configuration.

    Raises:
        ConfigError: For an unknown suite, policy or benign set, or unreadable benign data.
    """
    store = store if store is not None else Store()
    build = factory or (lambda policy: build_target(config.target, policy))
    chosen = configurations(config)
    arms = []
    for i, layer in enumerate(chosen):
        if on_configuration is not None:
            on_configuration(layer, i, len(chosen))
        target = build(layer.policy)
        try:  # benign first: a scan closes its target when it ends
            benign_run = await _benign_run(config, layer, store, target)
            attack_run = await _attack_run(config, layer, store, target)
        finally:
            await target.aclose()
        arms.append(Arm(layer=layer, attack_run=attack_run, benign_run=benign_run))
    runs = {r: list(store.attempts(r)) for a in arms for r in (a.attack_run, a.benign_run) if r}
    _, notes = benign_sets(config)
    return assess(tuple(arms), runs, load_taxonomy(), created_at=now(), notes=notes)
