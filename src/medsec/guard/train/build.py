"""Train the shipped injection classifier: ``python -m medsec.guard.train.build [DATA] [--out FILE]``.

Reads our examples (``examples.yaml``) and the ``train`` part of the public sets under ``DATA`` (the
shared data folder; see :mod:`medsec.guard.train.corpus` for the split), and fits a class-weighted
logistic regression over the features of :mod:`medsec.guard.classifier` (full-batch Adam with L2, NumPy,
deterministic). The operating point is chosen on the training part only, from 5-fold out-of-fold scores:
the lowest threshold that keeps the clinical benign texts (MedQuAD, PubMedQA, MedQA, MedMCQA, MMLU
train parts) under ``CLINICAL_FPR``, the general benign prompts (WildGuard and deepset train parts)
under ``GENERAL_FPR`` and our own benign examples under ``OURS_FPR``; the bias is then shifted so that
this threshold reads as probability 0.9, the scanner's default. Only hashed weights are written. Needs
NumPy (the ``embeddings`` extra), at build time only.
"""

from __future__ import annotations

import argparse
import hashlib
import math
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from medsec.guard.classifier import LinearModel, position_features, spans, tokens
from medsec.guard.rules import data_path
from medsec.guard.textnorm import canonical
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
OURS_FPR = 0.005
"""Budget on our own benign examples (trigger words in benign and clinical text: the over-defence the
public train parts barely cover). This and ``GENERAL_FPR`` were 1% and 5% until the benign trigger-word
prompts of ``tests/guard/test_classifier.py`` (written by us, never trained on) were flagged one time in
eight."""
L2 = 1e-6
CLINICAL = ("medquad", "pubmedqa", "medqa", "medmcqa", "mmlu")
GENERAL = ("wildguard", "deepset")
CLINICAL_FPR, GENERAL_FPR = 0.015, 0.03
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


def example_weights(examples: Sequence[Example]) -> list[float]:
    """Balanced class weights, times the source's ``SOURCE_WEIGHT``."""
    pos = sum(e.label for e in examples) or 1
    neg = (len(examples) - pos) or 1
    return [
        len(examples) / (2 * (pos if e.label else neg)) * SOURCE_WEIGHT.get(e.source, 1.0) for e in examples
    ]


def fit_arrays(examples: Sequence[Example], iters: int = 300, l2: float = L2) -> tuple[Any, float]:
    """Class-weighted L2 logistic regression over the windows of ``examples`` by full-batch Adam."""
    import numpy as np

    rows = Rows(examples, every_window=False)
    per_example = np.array(example_weights(examples))
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


def out_of_fold(examples: Sequence[Example], k: int = 5, l2: float = L2) -> list[float]:
    """Each example's score from a model trained on the other ``k - 1`` folds."""
    scores = [0.0] * len(examples)
    folds = [fold_of(e, k) for e in examples]
    for fold in range(k):
        w, b = fit_arrays([e for e, f in zip(examples, folds, strict=True) if f != fold], l2=l2)
        held = [i for i, f in enumerate(folds) if f == fold]
        for i, s in zip(held, Rows([examples[i] for i in held], True).best(w, b), strict=True):
            scores[i] = float(s)
    return scores


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
    model = train(examples)
    Path(args.out).write_text(model.to_json() + "\n", encoding="utf-8")
    sys.stderr.write(f"trained on {len(examples)} examples, {len(model.weights)} weights -> {args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
