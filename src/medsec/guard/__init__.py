"""The guard: defenses a clinical LLM system runs on every request, each one measured.

Scanners find (:class:`GuardScanner`, registered in :data:`SCANNERS`); the :class:`Pipeline` decides and
rewrites; a YAML policy (:func:`load_policy`) says which scanners run, in which order, with which
thresholds and actions; :class:`GuardedTarget` puts any Target behind a pipeline.
"""

from __future__ import annotations

from medsec.guard.guarded import REFUSAL, GuardedTarget
from medsec.guard.pipeline import Outcome, Pipeline, ScanFinding, Step
from medsec.guard.policy import Policy, StepSpec, build_pipeline, load_policy, parse_policy, policy_path
from medsec.guard.scanner import CHANNELS, Action, Channel, Context, GuardScanner, Passage, Verdict
from medsec.guard.scanners import SCANNERS

__all__ = [
    "CHANNELS",
    "REFUSAL",
    "SCANNERS",
    "Action",
    "Channel",
    "Context",
    "GuardScanner",
    "GuardedTarget",
    "Outcome",
    "Passage",
    "Pipeline",
    "Policy",
    "ScanFinding",
    "Step",
    "StepSpec",
    "Verdict",
    "build_pipeline",
    "load_policy",
    "parse_policy",
    "policy_path",
]
