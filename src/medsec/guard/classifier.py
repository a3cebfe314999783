"""A small linear text classifier: hashed word and character n-grams, logistic regression, pure Python.

Features of each word position are the word's 1-, 2- and 3-grams (numbers folded to ``0``) and, when the
model uses them, the character 3-, 4- and 5-grams of the word; all are hashed with CRC-32 into a fixed
number of buckets, so the shipped weights hold numbers, never text. A text is scored window by window
(``window`` words every ``stride`` words); a window's feature counts are divided by the square root of
their total, so a long window is neither favoured nor punished for its length, and the text's score is its
highest window's: an instruction buried in a long passage is not diluted by the text around it. Per-word
sums are cached, n-gram hashes continue each other's CRC, and window sums come from prefix sums, so
scoring is linear in the text's length.

A :class:`MaxModel` holds several such models, each calibrated so that its own operating point reads as
probability 0.9, and scores a text by the highest of their probabilities (the shipped injection model: one
member for instruction override, jailbreaks and indirect injection, one for secret and system-prompt
extraction).

Weights are trained at build time by :mod:`medsec.guard.train.build` and shipped as a small JSON file.
"""

from __future__ import annotations

import json
import math
import re
import zlib
from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from functools import lru_cache
from importlib import resources
from pathlib import Path
from typing import Any

from medsec.errors import ConfigError

_TOKEN = re.compile(r"[a-z]+|\d+|[^\sa-z\d]")
DEFAULT_MODEL = "injection_model.json"
FORMAT = "medsec-linear-2"
MAX_FORMAT = "medsec-linear-max-1"
_CACHE_LIMIT = 1 << 16
_START_CRC, _START_PAIR_CRC = zlib.crc32(b"<s>"), zlib.crc32(b"<s> <s>")


def tokens(canonical_text: str) -> list[str]:
    """Words, numbers (folded to ``0``) and single punctuation marks of an already canonical text."""
    return ["0" if t[0].isdigit() else t for t in _TOKEN.findall(canonical_text)] or ["<empty>"]


def char_grams(word: str, mask: int) -> list[int]:
    """Hashed character 3-, 4- and 5-grams of a word of three letters or more (with boundary marks)."""
    if len(word) < 3 or not word.isalpha():
        return []
    s = f"<{word}>"
    return [zlib.crc32(f"#{s[i : i + n]}".encode()) & mask for n in (3, 4, 5) for i in range(len(s) - n + 1)]


def position_features(words: Sequence[str], buckets: int, chars: bool) -> Iterator[list[int]]:
    """The hashed features of each word position: its 1-, 2- and 3-gram ending there, its char grams."""
    mask = buckets - 1
    before, last = "<s>", "<s>"
    for word in words:
        pair = f"{last} {word}"
        feats = [
            zlib.crc32(word.encode()) & mask,
            zlib.crc32(pair.encode()) & mask,
            zlib.crc32(f"{before} {pair}".encode()) & mask,
        ]
        if chars:
            feats += char_grams(word, mask)
        yield feats
        before, last = last, word


def spans(n: int, window: int, stride: int) -> list[tuple[int, int]]:
    """``(start, end)`` of the windows over ``n`` positions (one window when the text is short)."""
    if n <= window:
        return [(0, n)]
    starts = list(range(0, n - window, stride)) + [n - window]
    return [(s, s + window) for s in starts]


@dataclass(frozen=True)
class LinearModel:
    """Logistic regression over length-normalised hashed n-gram counts, scored over word windows.

    Args:
        weights: Bucket → weight (buckets absent weigh 0).
        bias: The intercept.
        buckets: Number of hash buckets (a power of two).
        window: Words per scoring window.
        stride: Words between window starts.
        chars: Whether character n-grams are features.
    """

    weights: dict[int, float]
    bias: float
    buckets: int = 1 << 20
    window: int = 64
    stride: int = 16
    chars: bool = True
    _words: dict[str, tuple[bytes, int, float, int]] = field(default_factory=dict, repr=False, compare=False)

    def _word(self, word: str) -> tuple[bytes, int, float, int]:
        """A word's cached parts: ``b" word"``, its CRC-32, its unigram and character-gram weight sum.

        The last item is how many features that sum holds (plus the 2- and 3-gram that end at the word).
        """
        cached = self._words.get(word)
        if cached is None:
            raw = word.encode()
            crc = zlib.crc32(raw)
            grams = char_grams(word, self.buckets - 1) if self.chars else []
            part = self.weights.get(crc & (self.buckets - 1), 0.0) + sum(
                self.weights.get(g, 0.0) for g in grams
            )
            cached = (b" " + raw, crc, part, len(grams) + 3)
            if len(self._words) >= _CACHE_LIMIT:
                self._words.clear()
            self._words[word] = cached
        return cached

    def logits(self, words: Sequence[str]) -> list[float]:
        """The raw score of every window of ``words``.

        The 2- and 3-gram hashes continue the CRC-32 of the words before them
        (``crc32(b" c", crc32(b"a b")) == crc32(b"a b c")``), so no n-gram string is built.
        """
        get, mask, crc32, word_of = self.weights.get, self.buckets - 1, zlib.crc32, self._word
        sums, counts = [0.0], [0]
        total, n = 0.0, 0
        last, pair = _START_CRC, _START_PAIR_CRC  # crc32(b"<s>"), crc32(b"<s> <s>")
        for word in words:
            spaced, crc, part, k = word_of(word)
            two = crc32(spaced, last)
            total += part + get(two & mask, 0.0) + get(crc32(spaced, pair) & mask, 0.0)
            n += k
            sums.append(total)
            counts.append(n)
            last, pair = crc, two
        return [
            self.bias + (sums[b] - sums[a]) / math.sqrt(counts[b] - counts[a])
            for a, b in spans(len(words), self.window, self.stride)
        ]

    def probability(self, words: Sequence[str]) -> float:
        """Probability in [0, 1] that tokenised text belongs to the positive class (highest window)."""
        best = max(self.logits(words))
        return 1.0 / (1.0 + math.exp(-max(-30.0, min(30.0, best))))

    def score(self, canonical_text: str) -> float:
        """Probability in [0, 1] that the text belongs to the positive class (highest window)."""
        return self.probability(tokens(canonical_text))

    def to_json(self) -> str:
        """The model as compact JSON (weights rounded to 4 decimals)."""
        return json.dumps(self.to_dict(), separators=(",", ":"))

    def to_dict(self) -> dict[str, Any]:
        """The model as a JSON-ready dict (weights rounded to 4 decimals)."""
        return {
            "format": FORMAT,
            "buckets": self.buckets,
            "window": self.window,
            "stride": self.stride,
            "chars": self.chars,
            "bias": round(self.bias, 6),
            "weights": {str(k): round(v, 4) for k, v in sorted(self.weights.items()) if round(v, 4)},
        }

    @classmethod
    def from_json(cls, text: str, where: str = "model") -> LinearModel:
        """Read a model written by :meth:`to_json`.

        Raises:
            ConfigError: When the JSON is not a model of this format.
        """
        try:
            return cls.from_dict(json.loads(text))
        except ValueError:
            raise ConfigError(f"{where}: not a medsec linear model (format {FORMAT})") from None

    @classmethod
    def from_dict(cls, data: Any) -> LinearModel:
        """Read a model from :meth:`to_dict`'s dict.

        Raises:
            ValueError: When the dict is not a model of this format.
        """
        try:
            if data.get("format") != FORMAT:
                raise ValueError("unknown format")
            weights = {int(k): float(v) for k, v in data["weights"].items()}
            return cls(
                weights,
                float(data["bias"]),
                int(data["buckets"]),
                int(data["window"]),
                int(data["stride"]),
                bool(data["chars"]),
            )
        except (ValueError, KeyError, TypeError, AttributeError):
            raise ValueError(f"not a medsec linear model (format {FORMAT})") from None


@dataclass(frozen=True)
class MaxModel:
    """Several linear models over the same tokens; a text's score is the highest member probability.

    Each member's bias is set so that its own operating point reads as 0.9, so one threshold serves all.

    Args:
        members: The linear models.
    """

    members: tuple[LinearModel, ...]

    def score(self, canonical_text: str) -> float:
        """The highest member probability of the text (tokenised once)."""
        words = tokens(canonical_text)
        return max(m.probability(words) for m in self.members)

    def to_json(self) -> str:
        """The model as compact JSON: its members' dicts (see :meth:`LinearModel.to_dict`)."""
        data = {"format": MAX_FORMAT, "members": [m.to_dict() for m in self.members]}
        return json.dumps(data, separators=(",", ":"))


Model = LinearModel | MaxModel


def model_from_json(text: str, where: str = "model") -> Model:
    """Read a :class:`LinearModel` or a :class:`MaxModel` written by its ``to_json``.

    Raises:
        ConfigError: When the JSON is neither.
    """
    try:
        data = json.loads(text)
        if isinstance(data, dict) and data.get("format") == MAX_FORMAT:
            members = tuple(LinearModel.from_dict(m) for m in data["members"])
            if not members:
                raise ValueError("no members")
            return MaxModel(members)
        return LinearModel.from_dict(data)
    except (ValueError, KeyError, TypeError):
        raise ConfigError(f"{where}: not a medsec model (format {FORMAT} or {MAX_FORMAT})") from None


@lru_cache(maxsize=8)
def load_model(path: str | None = None) -> Model:
    """Load a model file (the shipped injection model by default).

    Raises:
        ConfigError: When the file is missing or not a model.
    """
    file = Path(path) if path else Path(str(resources.files("medsec.guard") / "data" / DEFAULT_MODEL))
    try:
        text = file.read_text(encoding="utf-8")
    except OSError:
        raise ConfigError(f"{file}: cannot read the classifier weights") from None
    return model_from_json(text, str(file))
