"""False-positive budgets and the operating points that meet them, for the guard's trained classifiers.

A threshold is the lowest one under which each benign group keeps its flags within budget: clinical text
(MedQuAD, PubMedQA, MedQA, MedMCQA, MMLU train parts), general benign prompts (WildGuard, deepset) and our
own benign examples. :func:`operating_point` does it for one model, :func:`joint_operating_point` for a
pair whose flags are combined. Scores are out-of-fold scores of the training part: the test part is never
read here.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from medsec.guard.train.corpus import Example

OURS_FPR = 0.005
"""Budget on our own benign examples (trigger words in benign and clinical text: the over-defence the
public train parts barely cover). This and ``GENERAL_FPR`` were 1% and 5% until the benign trigger-word
prompts of ``tests/guard/test_classifier.py`` (written by us, never trained on) were flagged one time in
eight."""
CLINICAL = ("medquad", "pubmedqa", "medqa", "medmcqa", "mmlu")
GENERAL = ("wildguard", "deepset")
CLINICAL_FPR, GENERAL_FPR = 0.015, 0.03


def quantile(values: Sequence[float], fpr: float) -> float:
    """The score above which a fraction ``fpr`` of ``values`` lies."""
    ranked = sorted(values)
    return ranked[min(len(ranked) - 1, int(len(ranked) * (1 - fpr)))] + 1e-6


def operating_point(
    examples: Sequence[Example],
    scores: Sequence[float],
    general_fpr: float = GENERAL_FPR,
    ours_fpr: float = OURS_FPR,
) -> float:
    """The logit threshold meeting every false-positive budget on (out-of-fold) benign scores."""
    clinical = [s for e, s in zip(examples, scores, strict=True) if e.source in CLINICAL]
    general = [s for e, s in zip(examples, scores, strict=True) if e.source in GENERAL and not e.label]
    own = [s for e, s in zip(examples, scores, strict=True) if e.source == "ours" and not e.label]
    return max(
        quantile(clinical, CLINICAL_FPR),
        quantile(general, general_fpr) if general else -1e9,
        quantile(own, ours_fpr) if own else -1e9,
    )


def flag_budgets(examples: Sequence[Example]) -> list[tuple[list[int], int]]:
    """The benign groups of ``operating_point`` as (indices, how many of them may be flagged)."""
    groups = (
        ([i for i, e in enumerate(examples) if e.source in CLINICAL], CLINICAL_FPR),
        ([i for i, e in enumerate(examples) if e.source in GENERAL and not e.label], GENERAL_FPR),
        ([i for i, e in enumerate(examples) if e.source == "ours" and not e.label], OURS_FPR),
    )
    # as many as ``quantile`` lets lie above its threshold
    return [(idx, len(idx) - 1 - int(len(idx) * (1 - fpr))) for idx, fpr in groups if idx]


def joint_operating_point(
    examples: Sequence[Example], first: Sequence[float], second: Sequence[float], steps: int = 300
) -> tuple[float, float]:
    """Logit thresholds of two models whose combined flags (either above its own) meet every budget.

    Each candidate threshold of ``first`` (its benign scores, from its own lowest budget-meeting one
    upward) leaves part of each budget; ``second`` gets the lowest threshold that fits in what is left.
    The pair kept flags the most public attacks of ``examples`` (out-of-fold scores: the train part).
    """
    import numpy as np

    a, b = np.asarray(first), np.asarray(second)
    budgets = flag_budgets(examples)
    attacks = np.array([e.label == 1 and e.source != "ours" for e in examples])

    def lowest(scores: Any, free: Any) -> float | None:
        threshold = -1e9
        for idx, allowed in budgets:
            rest = np.sort(scores[idx][free[idx]])[::-1]
            left = allowed - int((~free[idx]).sum())
            if left < 0:
                return None
            if left < len(rest):
                threshold = max(threshold, float(rest[left]) + 1e-6)
        return threshold

    everyone = np.ones(len(a), dtype=bool)
    start = lowest(a, everyone)
    assert start is not None
    benign = np.unique(a[np.concatenate([idx for idx, _ in budgets])])
    candidates = benign[benign >= start]
    best: tuple[float, float, float] | None = None
    for ta in [start, *candidates[:: max(1, len(candidates) // steps)].tolist(), 1e9]:
        tb = lowest(b, a < ta)
        if tb is None:
            continue
        caught = float(((a >= ta) | (b >= tb))[attacks].mean())
        if best is None or caught > best[0]:
            best = (caught, ta, tb)
    assert best is not None
    return best[1], best[2]
