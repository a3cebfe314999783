"""Per-layer policies: from one guard policy, one policy per step ("each layer alone") and the whole.

Each derived policy is written as a YAML file whose name carries a hash of its content, so the same
policy always lands at the same path (the path is what a stored run records) and a changed policy never
reuses a stale run.
"""

from __future__ import annotations

import dataclasses
import hashlib
from collections import Counter
from pathlib import Path
from typing import Literal

import yaml

from medsec.config import read_yaml
from medsec.guard.policy import Policy, StepSpec, parse_policy, policy_path
from medsec.guard.scanners import SCANNERS
from medsec.types import Frozen

LayerKind = Literal["baseline", "layer", "all"]


class Layer(Frozen):
    """One configuration of the defense under test.

    Attributes:
        name: ``undefended``, a step's name (``injection``) or ``all:<policy>``.
        kind: ``baseline`` (no guard), ``layer`` (one step alone) or ``all`` (the whole policy).
        policy: The policy file the target is guarded with; None for the baseline.
        scanners: The guard scanners it runs, in order.
        defends: The taxonomy defense ids those scanners implement.
    """

    name: str
    kind: LayerKind
    policy: str | None = None
    scanners: tuple[str, ...] = ()
    defends: tuple[str, ...] = ()


BASELINE = Layer(name="undefended", kind="baseline")


def defends(scanner: str) -> str:
    """The taxonomy defense id a registered guard scanner implements (read without building it)."""
    factory = SCANNERS.factory(scanner)
    if isinstance(factory, type) and dataclasses.is_dataclass(factory):
        for f in dataclasses.fields(factory):
            if f.name == "defends" and isinstance(f.default, str):
                return f.default
    return str(SCANNERS.create(scanner).defends)


def step_names(policy: Policy) -> tuple[str, ...]:
    """Each step's name (its alias, else the scanner), with ``#2``… added to repeated names."""
    names = [s.name or s.scanner for s in policy.scanners]
    seen: Counter[str] = Counter()
    out = []
    for name in names:
        seen[name] += 1
        out.append(name if seen[name] == 1 else f"{name}#{seen[name]}")
    return tuple(out)


def split_policy(policy: Policy) -> tuple[tuple[str, Policy], ...]:
    """One single-step policy per step of ``policy``, by step name.

    The policy's default ``fail_open`` is copied into each step, so a step behaves alone as in the whole.
    """
    out = []
    for name, step in zip(step_names(policy), policy.scanners, strict=True):
        fixed: StepSpec = step.model_copy(
            update={"fail_open": policy.fail_open if step.fail_open is None else step.fail_open}
        )
        alone = policy.model_copy(
            update={
                "name": f"{policy.name}--{name.replace('#', '-')}",
                "description": f"Only the {name} step of the {policy.name} policy.",
                "scanners": (fixed,),
            }
        )
        out.append((name, alone))
    return tuple(out)


def read_policy(name_or_path: str | Path) -> Policy:
    """Read and validate a policy file (or a shipped policy by name) without building its scanners."""
    return parse_policy(read_yaml(policy_path(name_or_path)))


def write_policy(policy: Policy, directory: Path) -> Path:
    """Write a policy as YAML under ``directory``, named by its content hash; returns the path."""
    text = yaml.safe_dump(policy.model_dump(mode="json", exclude_none=True), sort_keys=False)
    digest = hashlib.sha256(text.encode()).hexdigest()[:12]
    path = directory / f"{policy.name}.{digest}.yaml"
    if not path.is_file():
        directory.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    return path


def without_request_rate(policy: Policy) -> Policy:
    """``policy`` with every ``budget`` step's per-user request rate lifted (its token limits kept).

    A scan sends hundreds of requests as one user, and input blocks take no model time, so a per-user
    request budget would soon refuse every later attempt: the evaluation would measure the harness's
    request rate, not a defense. Token limits stay, and the exhaustion probes measure them.
    """
    steps = tuple(
        step.model_copy(update={"args": {**step.args, "requests_per_minute": 0}})
        if step.scanner == "budget"
        else step
        for step in policy.scanners
    )
    return policy.model_copy(update={"scanners": steps})


def layers(policy: str | Path, directory: Path, *, alone: bool = True) -> tuple[Layer, ...]:
    """The configurations one policy contributes: each step alone (when ``alone``) and all together.

    Budget steps run without their per-user request rate (:func:`without_request_rate`).

    Args:
        policy: A shipped policy name or a policy file.
        directory: Where the derived policy files are written.
        alone: Also derive the single-step policies.

    Raises:
        ConfigError: When the policy file is missing or invalid.
    """
    whole = without_request_rate(read_policy(policy))
    scanners = tuple(s.scanner for s in whole.scanners)
    out = []
    if alone and len(whole.scanners) > 1:
        for name, single in split_policy(whole):
            scanner = single.scanners[0].scanner
            path = write_policy(single, directory)
            out.append(
                Layer(
                    name=name,
                    kind="layer",
                    policy=str(path),
                    scanners=(scanner,),
                    defends=(defends(scanner),),
                )
            )
    path = write_policy(whole, directory)
    all_defends = tuple(dict.fromkeys(defends(s) for s in scanners))
    out.append(
        Layer(name=f"all:{whole.name}", kind="all", policy=str(path), scanners=scanners, defends=all_defends)
    )
    return tuple(out)
