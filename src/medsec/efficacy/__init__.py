"""Defense efficacy: what each guard layer buys and costs, measured on the same attacks.

Buys: attack-success reduction. Costs: false refusals, accuracy, latency. Coverage joins the taxonomy's
attack → defense map with a policy's scanners and measured attack success.

``evaluate_defenses(EfficacyConfig(...))`` runs one suite against a target undefended, under each layer
of each policy alone and under the whole policy, plus a benign utility set; every configuration is a
stored run, and the report is a pure function of what is stored.
"""

from __future__ import annotations

from medsec.efficacy.assess import EfficacyResult, assess
from medsec.efficacy.coverage import PolicyCoverage, policy_coverage
from medsec.efficacy.evaluate import EfficacyConfig, evaluate_defenses
from medsec.efficacy.layers import Layer, layers, split_policy

__all__ = [
    "EfficacyConfig",
    "EfficacyResult",
    "Layer",
    "PolicyCoverage",
    "assess",
    "evaluate_defenses",
    "layers",
    "policy_coverage",
    "split_policy",
]
