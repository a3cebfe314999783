"""Acting on detected spans: redact, mask, surrogate, pseudonymise or annotate.

Transformations never detect; they take spans (from :func:`medsec.phi.detect` or anywhere else) and
rewrite the text. Surrogates are consistent: within one :class:`Surrogates` session the same value of
the same type always becomes the same fake, dates of one patient move by the same number of days (so
intervals survive), ages over 89 become ``90+`` and ZIP codes keep their first three digits where Safe
Harbor allows it (``000`` otherwise).
"""

from __future__ import annotations

import functools
import re
import string
from collections.abc import Iterable, Iterator, Sequence

from medsec.phi.dates import shift_date
from medsec.phi.detect import detect
from medsec.phi.model import DeidResult, Mode, PhiSpan, PhiType
from medsec.phi.rules import load_rules
from medsec.phi.vault import Vault

_ALNUM = re.compile(r"[A-Za-z0-9]")
_CITIES = ("Riverton", "Lakeview", "Fairmont", "Brookfield", "Oakdale", "Milton", "Ashford", "Greenville")
_STREETS = ("Maple", "Oak", "Cedar", "Elm", "Pine", "Birch", "Willow", "Chestnut")


class Surrogates:
    """One session of consistent surrogates, keyed so that the fakes cannot be traced back.

    Args:
        vault: Supplies the keyed digests (and keeps nothing in clear unless pseudonyms are issued).
        patient: Identifies the patient whose dates move together; one shift per patient and key.
        max_shift_days: Dates move back by 1 to this many days.
    """

    def __init__(self, vault: Vault | None = None, patient: str = "", max_shift_days: int = 365) -> None:
        self.vault = vault if vault is not None else Vault()
        self.shift_days = -(1 + int(self.vault.digest("shift", patient, 8), 16) % max_shift_days)

    def _pick(self, kind: str, value: str, options: Sequence[str]) -> str:
        return options[int(self.vault.digest(kind, value.lower(), 8), 16) % len(options)]

    def name(self, value: str) -> str:
        """A fake name with as many words as ``value``, in the same case style."""
        lex = load_rules().lexicons
        firsts, lasts = _sorted(lex.first), _sorted(lex.last)
        words = value.split()
        fake = [self._pick("first", w, firsts) for w in words[:-1]] + [self._pick("last", value, lasts)]
        out = " ".join(fake)
        return out.upper() if value.isupper() else out.lower() if value.islower() else string.capwords(out)

    def shape(self, kind: str, value: str) -> str:
        """Same shape, other characters: digits stay digits, letters stay letters, punctuation stays."""
        seed = self.vault.digest(kind, value, 64)
        chars = list(value)
        for i, m in enumerate(_ALNUM.finditer(value)):
            h = int(seed[i % 64], 16) + i
            c = m.group()
            pool = (
                string.digits
                if c.isdigit()
                else string.ascii_uppercase
                if c.isupper()
                else string.ascii_lowercase
            )
            chars[m.start()] = pool[h % len(pool)]
        return "".join(chars)

    def replace(self, kind: PhiType, value: str) -> str:
        """The surrogate of ``value`` (a span's text) of type ``kind``."""
        if kind is PhiType.NAME:
            return self.name(value)
        if kind is PhiType.DATE:
            return shift_date(value, self.shift_days) or "[DATE]"
        if kind is PhiType.AGE:
            return "90+"
        if kind is PhiType.ZIP:
            return safe_harbor_zip(value)
        return self._place(kind, value) or self.shape(kind, value)

    def _place(self, kind: PhiType, value: str) -> str | None:
        last = self._pick("last", value, _sorted(load_rules().lexicons.last)).capitalize()
        number = int(self.vault.digest(kind, value, 4), 16) % 9000 + 100
        fakes = {
            PhiType.LOCATION: self._pick("city", value, _CITIES),
            PhiType.FACILITY: f"{last} Medical Center",
            PhiType.EMPLOYER: f"{last} Industries",
            PhiType.ADDRESS: f"{number} {self._pick('street', value, _STREETS)} Street",
            PhiType.EMAIL: f"{last.lower()}{number}@example.org",
            PhiType.URL: f"https://example.org/{last.lower()}",
            PhiType.IP: f"192.0.2.{number % 250 + 1}",
        }
        return fakes.get(kind)


@functools.cache
def _sorted(words: frozenset[str]) -> tuple[str, ...]:
    return tuple(sorted(words))


def safe_harbor_zip(value: str) -> str:
    """The first three digits of a ZIP code, or ``000`` where that prefix covers 20,000 people or fewer."""
    digits = "".join(c for c in value if c.isdigit())[:3]
    return "000" if digits in load_rules().lexicons.restricted_zip3 or len(digits) < 3 else digits


def _mask(value: str) -> str:
    return _ALNUM.sub("*", value)


def _rewrite(value: str, span: PhiSpan, mode: Mode, surrogates: Surrogates) -> str:
    if mode is Mode.REDACT:
        return f"[{span.type.value}]"
    if mode is Mode.MASK:
        return _mask(value)
    if mode is Mode.PSEUDONYM:
        return surrogates.vault.token(span.type, value)
    if mode is Mode.ANNOTATE:
        return f"[{span.type.value}: {value}]"
    return surrogates.replace(span.type, value)


def apply(
    text: str, spans: Sequence[PhiSpan], mode: Mode = Mode.REDACT, surrogates: Surrogates | None = None
) -> str:
    """Rewrite every span of ``text`` according to ``mode``; spans must not overlap.

    Args:
        text: The text the spans index into.
        spans: Spans, as from :func:`medsec.phi.detect`.
        mode: What to write in place of each span.
        surrogates: The session for ``surrogate`` and ``pseudonym`` modes (a fresh one if omitted).

    Returns:
        The rewritten text.
    """
    session = surrogates or Surrogates()
    out, last = [], 0
    for span in sorted(spans, key=lambda s: s.start):
        out.append(text[last : span.start])
        out.append(_rewrite(text[span.start : span.end], span, mode, session))
        last = span.end
    out.append(text[last:])
    return "".join(out)


def deidentify(
    text: str, mode: Mode | str = Mode.REDACT, *, surrogates: Surrogates | None = None
) -> DeidResult:
    """Detect the PHI in ``text`` and rewrite it.

    Args:
        text: Any string.
        mode: ``redact``, ``mask``, ``surrogate``, ``pseudonym`` or ``annotate``.
        surrogates: Session of consistent surrogates, dates shifts and pseudonyms; share one across the
            documents of a patient to keep fakes and intervals consistent.

    Returns:
        The rewritten text and the spans, with offsets into ``text``.
    """
    mode = Mode(mode)
    spans = detect(text)
    return DeidResult(text=apply(text, spans, mode, surrogates), spans=tuple(spans), mode=mode)


def deidentify_batch(
    texts: Iterable[str], mode: Mode | str = Mode.REDACT, *, surrogates: Surrogates | None = None
) -> list[DeidResult]:
    """Run :func:`deidentify` on each text with one shared surrogate session."""
    session = surrogates or Surrogates()
    return [deidentify(text, mode, surrogates=session) for text in texts]


def deidentify_stream(
    lines: Iterable[str],
    mode: Mode | str = Mode.REDACT,
    *,
    surrogates: Surrogates | None = None,
    max_chars: int = 1 << 20,
) -> Iterator[str]:
    """De-identify a large text given as lines, holding about ``max_chars`` characters at a time.

    Lines are grouped into blocks that end at a line break, so only an identifier written across a line
    break can be cut in two; a single line longer than ``max_chars`` is processed whole.

    Args:
        lines: The text, as lines that keep their line endings (a file object works).
        mode: As for :func:`deidentify`.
        surrogates: One session for the whole stream.
        max_chars: Block size.

    Yields:
        The de-identified blocks, in order; joined they are the de-identified text.
    """
    session = surrogates or Surrogates()
    block: list[str] = []
    size = 0
    for line in lines:
        block.append(line)
        size += len(line)
        if size >= max_chars:
            yield deidentify("".join(block), mode, surrogates=session).text
            block, size = [], 0
    if block:
        yield deidentify("".join(block), mode, surrogates=session).text
