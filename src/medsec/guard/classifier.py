"""A small linear text classifier: hashed word n-grams, logistic regression, pure Python.

Features are the word 1-, 2- and 3-grams of the canonical text (see :mod:`medsec.guard.textnorm`),
hashed with CRC-32 into a fixed number of buckets, so the shipped weights hold numbers, never text. A text
is scored window by window (``window`` words, half-overlapping) and its score is the highest window's:
an instruction buried in a long passage is not diluted by the text around it.

Weights are trained at build time by :mod:`medsec.guard.train.build` and shipped as a small JSON file.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from medsec.errors import ConfigError

_TOKEN = re.compile(r"[a-z]+|\d+|[^\sa-z\d]")
DEFAULT_MODEL = "injection_model.json"


def tokens(canonical_text: str) -> list[str]:
    """Words, numbers and single punctuation marks of an already canonical text."""
    return _TOKEN.findall(canonical_text)


def features(words: Sequence[str], buckets: int) -> Iterator[int]:
    """Hashed 1-, 2- and 3-grams of ``words`` (with start and end markers)."""
    padded = ["<s>", *words, "</s>"]
    mask = buckets - 1
    for i, word in enumerate(padded):
        yield zlib.crc32(word.encode()) & mask
        if i + 1 < len(padded):
            pair = f"{word} {padded[i + 1]}"
            yield zlib.crc32(pair.encode()) & mask
            if i + 2 < len(padded):
                yield zlib.crc32(f"{pair} {padded[i + 2]}".encode()) & mask


def windows(words: Sequence[str], size: int) -> Iterator[Sequence[str]]:
    """Half-overlapping windows of ``size`` words (the whole text when it is shorter)."""
    if len(words) <= size:
        yield words
        return
    step = max(1, size // 2)
    for start in range(0, len(words) - size + step, step):
        yield words[start : start + size]


@dataclass(frozen=True)
class LinearModel:
    """Logistic regression over hashed n-grams.

    Args:
        weights: Bucket → weight (buckets absent weigh 0).
        bias: The intercept.
        buckets: Number of hash buckets (a power of two).
        window: Words per scoring window.
    """

    weights: dict[int, float]
    bias: float
    buckets: int = 1 << 20
    window: int = 96

    def logit(self, words: Sequence[str]) -> float:
        """The raw score of one window."""
        get = self.weights.get
        return self.bias + sum(get(f, 0.0) for f in features(words, self.buckets))

    def score(self, canonical_text: str) -> float:
        """Probability in [0, 1] that the text belongs to the positive class (highest window)."""
        words = tokens(canonical_text)
        best = max(self.logit(w) for w in windows(words, self.window))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, best))))

    def to_json(self) -> str:
        """The model as compact JSON (weights rounded to 4 decimals)."""
        data = {
            "format": "medsec-linear-1",
            "buckets": self.buckets,
            "window": self.window,
            "bias": round(self.bias, 6),
            "weights": {str(k): round(v, 4) for k, v in sorted(self.weights.items()) if round(v, 4)},
        }
        return json.dumps(data, separators=(",", ":"))

    @classmethod
    def from_json(cls, text: str, where: str = "model") -> LinearModel:
        """Read a model written by :meth:`to_json`.

        Raises:
            ConfigError: When the JSON is not a model of this format.
        """
        try:
            data = json.loads(text)
            if data.get("format") != "medsec-linear-1":
                raise ValueError("unknown format")
            weights = {int(k): float(v) for k, v in data["weights"].items()}
            return cls(weights, float(data["bias"]), int(data["buckets"]), int(data["window"]))
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ConfigError(f"{where}: not a medsec linear model (format medsec-linear-1)") from None


@lru_cache(maxsize=8)
def load_model(path: str | None = None) -> LinearModel:
    """Load a model file (the shipped injection model by default).

    Raises:
        ConfigError: When the file is missing or not a model.
    """
    file = Path(path) if path else Path(str(resources.files("medsec.guard") / "data" / DEFAULT_MODEL))
    try:
        text = file.read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(f"{file}: cannot read the classifier weights") from None
    return LinearModel.from_json(text, str(file))
