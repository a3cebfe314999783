"""Normalising text for detection, with a map from normalised offsets back to the original.

Detection runs on a normalised copy of the text in which invisible characters are gone, full-width and
other compatibility forms are plain ASCII (NFKC), common Cyrillic and Greek look-alikes of Latin letters
are Latin, digits spaced out one by one are joined, and runs of spelled-out digits are digits. Every span
found in the copy is mapped back to the original text through :class:`OffsetMap`.

Plain ASCII text with nothing to rewrite (the common case) is not copied at all.
"""

from __future__ import annotations

import re
import unicodedata
from bisect import bisect_right
from dataclasses import dataclass

_DIGIT_WORDS = {
    "zero": "0",
    "oh": "0",
    "one": "1",
    "two": "2",
    "three": "3",
    "four": "4",
    "five": "5",
    "six": "6",
    "seven": "7",
    "eight": "8",
    "nine": "9",
}
_WORD = "(?:" + "|".join(_DIGIT_WORDS) + ")"

# Cyrillic and Greek letters that render like Latin ones (a subset of Unicode's confusables.txt).
_CONFUSABLES = str.maketrans(
    "АВЕКМНОРСТХУаеорсхуіјѕԁԛԝΑΒΕΖΗΙΚΜΝΟΡΤΥΧοі",
    "ABEKMHOPCTXYaeopcxyijsdqwABEZHIKMNOPTYXoi",
)

_SPECIAL = re.compile(
    r"(?P<spelled>\b" + _WORD + r"(?:[\s,-]{1,3}" + _WORD + r"){3,}\b)"
    r"|(?P<spaced>(?<![\w.])\d(?:[ .-]\d){4,}(?![\w]))"
    r"|(?P<other>[^\x00-\x7f]+)",
    re.IGNORECASE,
)
_WORD_RE = re.compile(_WORD, re.IGNORECASE)
# Necessary conditions for a rewrite of ASCII text (two digit words in a row, three spaced digits),
# written so that the scan can skip to their first characters; most text meets neither.
_HINT_WORDS = re.compile(_WORD + r"[\s,-]{1,3}" + _WORD)
_HINT_DIGITS = re.compile(r"\d[ .-]\d[ .-]\d")


@dataclass(frozen=True)
class OffsetMap:
    """Maps offsets in a normalised text back to the text it was made from.

    Attributes:
        segments: Rewritten regions as ``(norm_start, norm_end, orig_start, orig_end)``, in order.
    """

    segments: tuple[tuple[int, int, int, int], ...] = ()

    def start(self, pos: int) -> int:
        """Original offset of the character at normalised offset ``pos``."""
        i = bisect_right(self.segments, pos, key=lambda s: s[0]) - 1
        if i < 0:
            return pos
        n0, n1, o0, o1 = self.segments[i]
        return o0 if pos < n1 else pos - n1 + o1

    def end(self, pos: int) -> int:
        """Original offset one past the character that ends before normalised offset ``pos``."""
        i = bisect_right(self.segments, pos - 1, key=lambda s: s[0]) - 1
        if i < 0:
            return pos
        n0, n1, o0, o1 = self.segments[i]
        return o1 if pos <= n1 else pos - n1 + o1


def _rewrite_other(chunk: str) -> str:
    out = []
    for ch in chunk:
        if unicodedata.category(ch) == "Cf":
            continue  # zero-width spaces, joiners, soft hyphens, BOM, bidi marks
        out.append(unicodedata.normalize("NFKC", ch).translate(_CONFUSABLES))
    return "".join(out)


def _rewrite(match: re.Match[str]) -> str:
    kind, found = match.lastgroup, match.group()
    if kind == "spelled":
        return "".join(_DIGIT_WORDS[w.lower()] for w in _WORD_RE.findall(found))
    if kind == "spaced":
        return found[::2]
    return _rewrite_other(found)


def normalize(text: str) -> tuple[str, OffsetMap]:
    """Return the normalised text and the map of its offsets back to ``text``.

    Args:
        text: Any string.

    Returns:
        The normalised copy (``text`` itself when nothing needed rewriting) and its offset map.
    """
    if text.isascii() and not _HINT_DIGITS.search(text) and not _HINT_WORDS.search(text.lower()):
        return text, OffsetMap()
    pieces: list[str] = []
    segments: list[tuple[int, int, int, int]] = []
    last = 0
    norm_len = 0
    for match in _SPECIAL.finditer(text):
        new = _rewrite(match)
        if new == match.group():
            continue
        a, b = match.span()
        pieces.append(text[last:a])
        norm_len += a - last
        if match.lastgroup == "other":
            segments.extend(_per_char(text, a, b, norm_len))
        else:
            segments.append((norm_len, norm_len + len(new), a, b))
        pieces.append(new)
        norm_len += len(new)
        last = b
    if not pieces:
        return text, OffsetMap()
    pieces.append(text[last:])
    return "".join(pieces), OffsetMap(tuple(segments))


def _per_char(text: str, a: int, b: int, norm_start: int) -> list[tuple[int, int, int, int]]:
    """Segments for a run of non-ASCII characters, one per character whose length changed.

    A character rewritten one-for-one needs no segment: offsets around it stay in step.
    """
    out = []
    pos = norm_start
    for i in range(a, b):
        size = len(_rewrite_other(text[i]))
        if size != 1:
            out.append((pos, pos + size, i, i + 1))
        pos += size
    return out
