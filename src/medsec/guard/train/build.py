"""Train the shipped injection classifier: ``python -m medsec.guard.train.build [DATA] [--out FILE]``.

Reads our examples (``examples.yaml``) and the ``train`` part of the public sets under ``DATA`` (the
shared data folder; see :mod:`medsec.guard.train.corpus` for the split), fits a logistic regression over
hashed word n-grams by stochastic gradient descent (pure Python, a fixed seed, so the result is
reproducible), and writes ``medsec/guard/data/injection_model.json``. Only hashed weights are written.
"""

from __future__ import annotations

import argparse
import math
import random
import sys
from collections.abc import Sequence
from pathlib import Path

from medsec.guard.classifier import LinearModel, features, tokens, windows
from medsec.guard.rules import data_path
from medsec.guard.textnorm import canonical
from medsec.guard.train.corpus import Example, ours, public

BUCKETS = 1 << 20
WINDOW = 96
OURS_WEIGHT = 3.0
"""Our examples are few but say exactly what clinical text must (not) trigger, so they weigh more."""


def _vectors(examples: Sequence[Example]) -> list[tuple[list[int], int, float]]:
    """Hashed features of the first window of each example, its label and its weight."""
    out = []
    pos = sum(e.label for e in examples) or 1
    neg = (len(examples) - pos) or 1
    for e in examples:
        words = tokens(canonical(e.text))
        weight = len(examples) / (2 * (pos if e.label else neg))  # balance the classes
        weight *= OURS_WEIGHT if e.source == "ours" else 1.0
        # scoring takes the highest window, so every window of a benign text must stay low; an attack
        # is taught by its opening window, where the instruction usually sits
        parts = list(windows(words, WINDOW)) if not e.label else [words[:WINDOW]]
        out += [(sorted(set(features(p, BUCKETS))), e.label, weight / len(parts)) for p in parts]
    return out


def fit(
    examples: Sequence[Example], epochs: int = 8, rate: float = 0.2, l2: float = 1e-5, seed: int = 7
) -> LinearModel:
    """Logistic regression by SGD with L2 and a decaying rate."""
    data = _vectors(examples)
    weights: dict[int, float] = {}
    bias = 0.0
    rng = random.Random(seed)
    for epoch in range(epochs):
        rng.shuffle(data)
        step = rate / (1 + epoch)
        for feats, label, weight in data:
            z = bias + sum(weights.get(f, 0.0) for f in feats)
            p = 1 / (1 + math.exp(-max(-30.0, min(30.0, z))))
            g = (p - label) * weight * step
            bias -= g
            for f in feats:
                w = weights.get(f, 0.0)
                weights[f] = w - g - step * l2 * w
    pruned = {k: v for k, v in weights.items() if abs(v) >= 0.03}  # keeps the shipped file small
    return LinearModel(pruned, bias, BUCKETS, WINDOW)


def training_set(data: str | Path) -> list[Example]:
    """Our examples plus the public ``train`` items, except Mosscap's.

    Mosscap prompts are moves in a password game ("let's play word association"), mostly ordinary
    requests out of that game's context: taught as attacks they make every general question look like one.
    """
    return [*ours(), *(e for e in public(data) if e.split == "train" and e.source != "mosscap")]


def main(argv: Sequence[str] | None = None) -> int:
    """Train and write the model."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("data", nargs="?", default="../shared/data", help="the shared data folder")
    parser.add_argument("--out", default=str(data_path("injection_model.json")))
    parser.add_argument("--ours-only", action="store_true", help="train on our examples only")
    args = parser.parse_args(argv)
    examples = ours() if args.ours_only else training_set(args.data)
    model = fit(examples)
    Path(args.out).write_text(model.to_json() + "\n", encoding="utf-8")
    sys.stderr.write(f"trained on {len(examples)} examples, {len(model.weights)} weights -> {args.out}\n")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
