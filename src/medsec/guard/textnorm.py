"""Undoing the disguises attackers put on instructions, before rules and the classifier look.

:func:`canonical` folds a text to one comparable form: Unicode compatibility forms and look-alike letters
to ASCII (via :func:`medsec.phi.normalize.normalize`), invisible characters dropped, leetspeak inside
words undone (``1gn0re`` → ``ignore``), letters spaced or dotted out one by one joined
(``i g n o r e`` → ``ignore``), lower case, single spaces. :func:`decodings` yields the texts hidden in
base64, hex, Morse code, ROT13 and reversed writing, so they can be scanned again.
"""

from __future__ import annotations

import base64
import binascii
import codecs
import re
from collections.abc import Iterator
from functools import lru_cache

from medsec.phi.normalize import normalize

_LEET = str.maketrans(
    {"0": "o", "1": "i", "3": "e", "4": "a", "5": "s", "7": "t", "@": "a", "$": "s", "!": "i"}
)
# a word mixing letters with leet digits or symbols (not a plain number, not a dose like "5mg")
_LEET_WORD = re.compile(r"\b(?=[\w@$!]*[a-z])(?=[\w@$!]*[013457@$!])[a-z013457@$!]{3,}\b")
_SPACED = re.compile(r"\b(?:[a-z][ .\-_*]){3,}[a-z]\b")
_SPACES = re.compile(r"\s+")
_B64 = re.compile(r"[A-Za-z0-9+/]{16,}={0,2}")
_HEX = re.compile(r"\b(?:[0-9a-fA-F]{2}[ :]?){8,}\b")
_PRINTABLE = re.compile(r"^[\x20-\x7e\s]+$")


_MEASURE = re.compile(r"^\d+(?:mg|mcg|g|ml|l|kg|mmol|units?|iu|h|hr|hrs|d|x|st|nd|rd|th|s|am|pm|yo)$")


def _unleet(match: re.Match[str]) -> str:
    word = match.group()
    return word if _MEASURE.match(word) else word.translate(_LEET)


def _join_spaced(match: re.Match[str]) -> str:
    return match.group()[::2]


def canonical(text: str) -> str:
    """Fold ``text`` to the canonical form rules and the classifier see.

    Texts up to ``_CACHED_CHARS`` long are remembered (the last ``_CACHED_TEXTS`` of them), so scanners
    that read the same text one after the other fold it once.

    Args:
        text: Any string.

    Returns:
        Lower-case ASCII-folded text with leetspeak and spaced-out letters undone.
    """
    return _canonical_cached(text) if len(text) <= _CACHED_CHARS else _canonical(text)


_CACHED_CHARS, _CACHED_TEXTS = 16_384, 64


def _canonical(text: str) -> str:
    folded, _ = normalize(text.lower())
    folded = folded.lower()
    if any(c in folded for c in "013457@$!"):
        folded = _LEET_WORD.sub(_unleet, folded)
    folded = _SPACED.sub(_join_spaced, folded)
    return _SPACES.sub(" ", folded).strip()


_canonical_cached = lru_cache(maxsize=_CACHED_TEXTS)(_canonical)


def _readable(raw: bytes) -> str | None:
    try:
        out = raw.decode("utf-8")
    except UnicodeDecodeError:
        return None
    letters = sum(c.isalpha() or c == " " for c in out)
    return out if out and _PRINTABLE.match(out) and letters >= 0.7 * len(out) else None


def _base64s(text: str) -> Iterator[str]:
    for match in _B64.finditer(text):
        token = match.group()
        try:
            raw = base64.b64decode(token + "=" * (-len(token) % 4), validate=True)
        except (binascii.Error, ValueError):
            continue
        decoded = _readable(raw)
        if decoded is not None:
            yield decoded


def _hexes(text: str) -> Iterator[str]:
    for match in _HEX.finditer(text):
        digits = re.sub(r"[ :]", "", match.group())
        if len(digits) % 2 == 0:
            decoded = _readable(bytes.fromhex(digits))
            if decoded is not None:
                yield decoded


# International Morse code (ITU-R M.1677-1): letters and digits.
_MORSE_CODES = (
    ".- -... -.-. -.. . ..-. --. .... .. .--- -.- .-.. -- -. --- .--. --.- .-. ... - ..- ...- .-- -..- "
    "-.-- --.. ----- .---- ..--- ...-- ....- ..... -.... --... ---.. ----."
)
_MORSE = dict(zip(_MORSE_CODES.split(" "), "abcdefghijklmnopqrstuvwxyz0123456789", strict=True))
_MORSE_CODE = r"[.\-\u2022\u00b7_]{1,7}"
_MORSE_RUN = re.compile(rf"{_MORSE_CODE}(?:(?:[ \t]{{1,8}}|[ \t]*[/|\n][ \t]*){_MORSE_CODE}){{4,}}")
_MORSE_MARKS = frozenset(".-\u2022\u00b7_")
_MORSE_WORD_BREAK = re.compile(r"[ \t]*[/|\n][ \t]*|[ \t]{2,}")


def _morse(text: str) -> Iterator[str]:
    """Runs of five or more Morse codes, decoded and joined into one text.

    Words are split by ``/``, ``|``, a line break or two or more spaces; ``•`` and ``·`` read as dots,
    ``_`` as a dash.
    """
    if sum(c in _MORSE_MARKS for c in text) < 10:
        return
    words = []
    for run in _MORSE_RUN.finditer(text):
        raw = run.group(0).replace("\u2022", ".").replace("\u00b7", ".").replace("_", "-")
        for word in _MORSE_WORD_BREAK.split(raw):
            words.append("".join(_MORSE.get(code, "") for code in word.split()))
    decoded = " ".join(w for w in words if w)
    if sum(c.isalpha() for c in decoded) >= 4:
        yield decoded


def decodings(text: str) -> Iterator[tuple[str, str]]:
    """The texts hidden in ``text`` by common encodings, as ``(encoding, decoded text)`` pairs.

    Base64, hex and Morse runs are decoded when they decode to readable text; ROT13 and reversal are
    applied to the whole text (rules decide whether the result says anything).
    """
    for decoded in _base64s(text):
        yield "base64", decoded
    for decoded in _hexes(text):
        yield "hex", decoded
    for decoded in _morse(text):
        yield "morse", decoded
    yield "rot13", codecs.encode(text, "rot13")
    yield "reversed", text[::-1]
