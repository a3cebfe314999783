"""Train the shipped injection classifier: ``python -m medsec.guard.train.build [DATA] [--out FILE]``.

Reads our examples (``examples.yaml``) and the ``train`` part of the public sets under ``DATA`` (the
shared data folder; see :mod:`medsec.guard.train.corpus` for the split), and fits a class-weighted
logistic regression over the features of :mod:`medsec.guard.classifier` (full-batch Adam with L2, NumPy,
deterministic). The operating point is chosen on the training part only, from 5-fold out-of-fold scores:
the lowest threshold that keeps the clinical benign texts (MedQuAD, PubMedQA, MedQA, MedMCQA, MMLU
train parts) under ``CLINICAL_FPR``, the general benign prompts (WildGuard and deepset train parts)
under ``GENERAL_FPR`` and our own benign examples under ``OURS_FPR`` (all in
:mod:`medsec.guard.train.budgets`); the bias is then shifted so that
this threshold reads as probability 0.9, the scanner's default. Only hashed weights are written. Needs
NumPy (the ``embeddings`` extra), at build time only.

The shipped injection model is a pair (:func:`train_pair`, a :class:`~medsec.guard.classifier.MaxModel`):
one linear model for instruction override, jailbreaks and indirect injection, trained without Mosscap; one
for secret and system-prompt extraction, trained on Mosscap, our examples and every benign text. One model
for both lost about three points on the other sources to learn Mosscap under the same budgets. The two
thresholds are chosen together on out-of-fold scores (:func:`joint_operating_point`): the pair whose
combined flags (either model above its own threshold) stay within every budget and catch the most public
train attacks. :func:`train` (one model, one threshold) still builds the harmful-request model.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medsec.guard.classifier import LinearModel, MaxModel, position_features, spans, tokens
from medsec.guard.rules import data_path
from medsec.guard.textnorm import canonical
from medsec.guard.train.budgets import (
    GENERAL_FPR,
    OURS_FPR,
    joint_operating_point,
    operating_point,
)
from medsec.guard.train.corpus import Example, ours, public

if TYPE_CHECKING:
    import numpy as np
    from numpy.typing import NDArray

BUCKETS = 1 << 20
WINDOW, STRIDE, CHARS = 64, 16, True
SOURCE_WEIGHT = {"ours": 3.0, "mosscap": 0.5}
"""Per-source multipliers of the balanced class weights. Our examples are few but say exactly what
clinical text must (not) trigger, so they weigh more; Mosscap's moves weigh half, since many are ordinary
requests that are attacks only inside its password game."""
L2 = 1e-6
DEFAULT_LOGIT = math.log(0.9 / 0.1)
PRUNE = 0.005


class Rows:
    """Windows of examples as a sparse matrix (CSR arrays), with the example each window came from."""

    def __init__(self, examples: Sequence[Example], every_window: bool) -> None:
        import numpy as np

        cols: list[Any] = []
        vals: list[Any] = []
        lengths, owner = [], []
        for k, e in enumerate(examples):
            feats = list(position_features(tokens(canonical(e.text)), BUCKETS, CHARS))
            windows = spans(len(feats), WINDOW, STRIDE)
            # a benign text must stay low in every window; an attack is taught by its opening window
            for a, b in windows if every_window or not e.label else windows[:1]:
                flat = np.fromiter((f for p in feats[a:b] for f in p), np.int64)
                u, c = np.unique(flat, return_counts=True)
                cols.append(u)
                vals.append(c / math.sqrt(c.sum()))
                lengths.append(len(u))
                owner.append(k)
        self.cols = np.concatenate(cols)
        self.vals = np.concatenate(vals)
        self.row = np.repeat(np.arange(len(lengths)), lengths)
        self.owner = np.array(owner)
        self.n = len(examples)

    def logits(self, w: NDArray[np.float64], b: float) -> NDArray[np.float64]:
        """The raw score of every window."""
        import numpy as np

        raw = np.bincount(self.row, weights=w[self.cols] * self.vals, minlength=len(self.owner))
        return np.asarray(raw + b, dtype=np.float64)

    def best(self, w: NDArray[np.float64], b: float) -> NDArray[np.float64]:
        """The highest window score of every example."""
        import numpy as np

        out = np.full(self.n, -1e9)
        np.maximum.at(out, self.owner, self.logits(w, b))
        return out


def example_weights(
    examples: Sequence[Example], source_weight: dict[str, float] | None = None
) -> list[float]:
    """Balanced class weights, times the source's weight (``SOURCE_WEIGHT`` unless given)."""
    by_source = SOURCE_WEIGHT if source_weight is None else source_weight
    pos = sum(e.label for e in examples) or 1
    neg = (len(examples) - pos) or 1
    return [len(examples) / (2 * (pos if e.label else neg)) * by_source.get(e.source, 1.0) for e in examples]


def fit_arrays(
    examples: Sequence[Example],
    iters: int = 300,
    l2: float = L2,
    source_weight: dict[str, float] | None = None,
) -> tuple[Any, float]:
    """Class-weighted L2 logistic regression over the windows of ``examples`` by full-batch Adam."""
    import numpy as np

    rows = Rows(examples, every_window=False)
    per_example = np.array(example_weights(examples, source_weight))
    labels = np.array([e.label for e in examples], dtype=np.float64)[rows.owner]
    windows = np.bincount(rows.owner)
    weight = per_example[rows.owner] / windows[rows.owner]
    weight /= weight.sum()
    w, b = np.zeros(BUCKETS), 0.0
    m, v, mb, vb = np.zeros(BUCKETS), np.zeros(BUCKETS), 0.0, 0.0
    for t in range(1, iters + 1):
        p = 1 / (1 + np.exp(-np.clip(rows.logits(w, b), -30, 30)))
        g = (p - labels) * weight
        gw = np.bincount(rows.cols, weights=g[rows.row] * rows.vals, minlength=BUCKETS) + l2 * w
        gb = float(g.sum())
        m, v = 0.9 * m + 0.1 * gw, 0.999 * v + 0.001 * gw * gw
        mb, vb = 0.9 * mb + 0.1 * gb, 0.999 * vb + 0.001 * gb * gb
        rate = 0.05 * math.sqrt(1 - 0.999**t) / (1 - 0.9**t)
        w -= rate * m / (np.sqrt(v) + 1e-8)
        b -= rate * mb / (math.sqrt(vb) + 1e-8)
    return w, b


def fold_of(e: Example, k: int = 5) -> int:
    """The cross-validation fold of a training example (SHA-256 of its source and id)."""
    return int(hashlib.sha256(f"fold:{e.source}:{e.id}".encode()).hexdigest(), 16) % k


def out_of_fold(
    examples: Sequence[Example],
    k: int = 5,
    l2: float = L2,
    member: Callable[[Example], bool] | None = None,
    source_weight: dict[str, float] | None = None,
) -> list[float]:
    """Each example's score from a model trained on the other ``k - 1`` folds.

    With ``member``, each fold's model trains only on the examples ``member`` accepts; every example of the
    held-out fold is scored, accepted or not.
    """
    scores = [0.0] * len(examples)
    folds = [fold_of(e, k) for e in examples]
    for fold in range(k):
        part = [
            e for e, f in zip(examples, folds, strict=True) if f != fold and (member is None or member(e))
        ]
        w, b = fit_arrays(part, l2=l2, source_weight=source_weight)
        held = [i for i, f in enumerate(folds) if f == fold]
        for i, s in zip(held, Rows([examples[i] for i in held], True).best(w, b), strict=True):
            scores[i] = float(s)
    return scores


def to_model(w: Any, b: float, threshold: float) -> LinearModel:
    """Prune tiny weights and shift the bias so that ``threshold`` reads as probability 0.9."""
    import numpy as np

    keep = np.flatnonzero(np.abs(w) >= PRUNE)
    weights = {int(i): float(w[i]) for i in keep}
    return LinearModel(weights, b + DEFAULT_LOGIT - threshold, BUCKETS, WINDOW, STRIDE, CHARS)


def train(
    examples: Sequence[Example],
    calibrate_on: Sequence[Example] | None = None,
    general_fpr: float = GENERAL_FPR,
    ours_fpr: float = OURS_FPR,
    l2: float = L2,
) -> LinearModel:
    """Fit on ``examples``; calibrate on out-of-fold scores, or on ``calibrate_on`` (never trained on)."""
    w, b = fit_arrays(examples, l2=l2)
    if calibrate_on is None:
        threshold = operating_point(examples, out_of_fold(examples, l2=l2), general_fpr, ours_fpr)
    else:
        scores = [float(s) for s in Rows(calibrate_on, True).best(w, b)]
        threshold = operating_point(calibrate_on, scores, general_fpr, ours_fpr)
    return to_model(w, b, threshold)


def override_member(e: Example) -> bool:
    """Examples of the instruction-override model: everything but Mosscap's secret-extraction moves."""
    return e.source != "mosscap"


def extraction_member(e: Example) -> bool:
    """Examples of the secret-extraction model: Mosscap, our examples and every benign text."""
    return e.source in ("mosscap", "ours") or not e.label


OVERRIDE_WEIGHT, OVERRIDE_L2 = {"ours": 3.0}, 1e-6
EXTRACTION_WEIGHT, EXTRACTION_L2 = {"ours": 3.0, "mosscap": 1.0}, 1.5e-7
"""Source weights and L2 of the two members, chosen on out-of-fold train scores of the pair (overall train
detection at the budgets): the override member at 2e-6, 1e-6 and 5e-7, the extraction member at 1e-6,
4e-7 and 1.5e-7, Mosscap weighing 1 or 2 in it."""


def train_pair(examples: Sequence[Example], report: dict[str, float] | None = None) -> MaxModel:
    """An instruction-override and a secret-extraction model, thresholds chosen jointly (out-of-fold).

    With ``report``, fills it with each source's out-of-fold flag rate at the chosen thresholds (train
    items only: what the build can say about itself without the test part).
    """
    specs = (
        (override_member, OVERRIDE_WEIGHT, OVERRIDE_L2),
        (extraction_member, EXTRACTION_WEIGHT, EXTRACTION_L2),
    )
    fits, oof = [], []
    for member, weight, l2 in specs:
        fits.append(fit_arrays([e for e in examples if member(e)], l2=l2, source_weight=weight))
        oof.append(out_of_fold(examples, l2=l2, member=member, source_weight=weight))
    thresholds = joint_operating_point(examples, oof[0], oof[1])
    if report is not None:
        flagged = [a >= thresholds[0] or b >= thresholds[1] for a, b in zip(*oof, strict=True)]
        flags: dict[str, list[bool]] = {}
        for e, f in zip(examples, flagged, strict=True):
            key = e.source if e.source != "ours" else f"ours{'+' if e.label else '-'}"
            flags.setdefault(key, []).append(f)
        attacks = [f for e, f in zip(examples, flagged, strict=True) if e.label and e.source != "ours"]
        report.update({k: sum(v) / len(v) for k, v in sorted(flags.items())})
        report["public attacks"] = sum(attacks) / len(attacks)
    return MaxModel(tuple(to_model(w, b, t) for (w, b), t in zip(fits, thresholds, strict=True)))


def training_set(data: str | Path) -> list[Example]:
    """Our examples plus the public ``train`` items.

    Mosscap prompts are moves in a password game: attempts to extract a secret (its letters, its length,
    the text above), which in a clinical deployment is system-prompt and credential extraction (OWASP
    LLM07). Some are ordinary requests out of the game's context ("why", "what is your name?"); the
    false-positive budgets on clinical, general and our own benign text keep those from setting the
    threshold.
    """
    return [*ours(), *(e for e in public(data) if e.split == "train")]


def main(argv: Sequence[str] | None = None) -> int:
    """Train, calibrate and write the model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="../shared/data", help="the shared data folder")
    parser.add_argument("--out", default=str(data_path("injection_model.json")))
    args = parser.parse_args(argv)
    examples = training_set(args.data)
    report: dict[str, float] = {}
    model = train_pair(examples, report)
    Path(args.out).write_text(model.to_json() + "\n", encoding="utf-8")
    weights = sum(len(m.weights) for m in model.members)
    sys.stderr.write(f"trained on {len(examples)} examples, {weights} weights -> {args.out}\n")
    sys.stderr.write("out-of-fold flag rate on the train part (ours+ attacks, ours- benign):\n")
    for name, rate in report.items():
        sys.stderr.write(f"  {name:24} {rate:.4f}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
