"""Detection: any text in, typed PHI spans out, with offsets into the text as given.

The text is normalised (see :mod:`medsec.phi.normalize`), every pattern rule, the place lexicons and the
name finder propose candidates, overlapping candidates are merged into one span that takes the type of
its most confident member, and offsets are mapped back to the original text.
"""

from __future__ import annotations

import re
from bisect import bisect_right
from collections.abc import Iterable, Iterator
from itertools import accumulate

from medsec.phi.model import PhiSpan, PhiType
from medsec.phi.names import find_names
from medsec.phi.normalize import normalize
from medsec.phi.patterns import Candidate
from medsec.phi.rules import load_rules
from medsec.phi.scan import run_scans

# Placeholders this engine writes ("[NAME]", "[DATE]") are never PHI, so redaction is idempotent.
_PLACEHOLDER = re.compile(r"\[(?:[A-Z_]+|[A-Z_]+_[0-9a-f]{6,}|[A-Z_]+: [^\]\x00]*)\]|\*{2,}")
_TRIM = " \t\r\n,;:[]{}\"'"
_JOIN = "\n\x00\n"  # between the texts of a batch: whitespace, but no run of whitespace crosses it


# Named clinical instruments and eponyms: a run of capitalised words ending in a capitalised instrument
# noun names a scale, score, rule or test ("Columbia Suicide Severity Rating Scale", "Boston Naming Test",
# "Montreal Cognitive Assessment"), as does a capitalised word directly followed by a few lowercase ones
# ("Duke criteria", "Mayo Clinic criteria"). A place or facility that opens such a name is not PHI; a name
# is not PHI only when its own span swallowed the instrument's words. Same line, same sentence, no
# connector right before the noun ("Referred John Smith for assessment" keeps the name), not a form label.
_INSTRUMENT_NOUNS = (
    "Scales?|Scores?|Criteria|Tests?|Inventory|Questionnaire|Assessment|Rules?|Classification|Staging|"
    "Index|Protocol|Nomogram|Equation|Formula|Algorithm|Screen(?:er|ing)?(?:[ \\t]+Tool)?|Instrument|Tool"
)
_LOWER_NOUNS = "criteria|scale|classification|staging|nomogram|equation|formula"
_WORD = r"(?:St\.|[A-Z](?:[\w'’&]|\.(?=\w))*)"
_INSTRUMENT = re.compile(
    rf"(?:{_WORD}(?:[ \t]+(?:and|of|the|for|in)\b)*[ \t-]+){{0,7}}{_WORD}[ \t-]+"
    rf"(?:{_INSTRUMENT_NOUNS}|{_LOWER_NOUNS})(?![\w-])(?![ \t]*:)"
)
_TITLE = re.compile(r"(?i:\b(?:mr|mrs|ms|mx|dr|miss|prof)\.?[ \t]+)")
_NOT_INSTRUMENTS = frozenset({PhiType.NAME, PhiType.LOCATION, PhiType.FACILITY})


def _named_instrument(text: str, c: Candidate) -> bool:
    """Whether ``c`` is a place, facility or name that belongs to an instrument's name (see above)."""
    if c.type not in _NOT_INSTRUMENTS:
        return False
    if _TITLE.match(text, c.start) or _TITLE.search(text, max(0, c.start - 8), c.start):
        return False  # "Dr. Harold Finch Test …": a person
    m = _INSTRUMENT.match(text, c.start)
    if m is None:
        return False
    return m.end() == c.end if c.type is PhiType.NAME else m.end() >= c.end


def _candidates(text: str) -> list[Candidate]:
    rules = load_rules()
    found = run_scans(text, rules.scans)
    found.extend(find_names(text, rules.lexicons))
    return [c for c in found if not _named_instrument(text, c)]


def _trim(text: str, c: Candidate) -> Candidate | None:
    start, end = c.start, c.end
    while start < end and (text[start] in _TRIM or (text[start] == "(" and ")" not in text[start:end])):
        start += 1
    while end > start and (text[end - 1] in _TRIM or (text[end - 1] == ")" and "(" not in text[start:end])):
        end -= 1
    return Candidate(start, end, c.type, c.score) if end > start else None


def _resolve(text: str, found: list[Candidate]) -> list[Candidate]:
    """Merge overlapping candidates; the merged span takes the type of its highest-scoring member."""
    blocked = [m.span() for m in _PLACEHOLDER.finditer(text)] if "[" in text or "**" in text else []
    merged: list[Candidate] = []
    for c in sorted(found, key=lambda c: (c.start, -c.end)):
        trimmed = _trim(text, c)
        if trimmed is None or any(
            a <= trimmed.start < b or a < trimmed.end <= b or trimmed.start == b or trimmed.end == a
            for a, b in blocked
        ):
            continue  # inside or glued to a placeholder: part of what was already redacted
        if merged and trimmed.start < merged[-1].end:
            last = merged[-1]
            best = last if last.score >= trimmed.score else trimmed
            merged[-1] = Candidate(last.start, max(last.end, trimmed.end), best.type, best.score)
        else:
            merged.append(trimmed)
    return merged


def detect(text: str) -> list[PhiSpan]:
    """Find the PHI in ``text``.

    Args:
        text: Any string.

    Returns:
        Sorted, non-overlapping spans with offsets into ``text``.
    """
    norm, offsets = normalize(text)
    spans = []
    for c in _resolve(norm, _candidates(norm)):
        start, end = offsets.start(c.start), offsets.end(c.end)
        if end > start:
            spans.append(PhiSpan(start=start, end=end, type=c.type, score=round(c.score, 3)))
    return spans


def detect_batch(texts: Iterable[str], block: int = 1 << 20) -> list[list[PhiSpan]]:
    """Run :func:`detect` on each text, in order, with the same results, faster for many short texts.

    Texts are joined into blocks of about ``block`` characters with a separator no rule matches across
    (a run of whitespace stops at its NUL), each block is detected in one pass, and the spans go back to
    their texts. A text that contains a NUL itself is detected on its own.

    Args:
        texts: The texts.
        block: Characters per joined block.

    Returns:
        One list of spans per text, with offsets into that text.
    """
    out: list[list[PhiSpan]] = []
    group: list[str] = []
    size = 0
    for text in texts:
        if "\x00" in text:
            out.extend(_detect_joined(group))
            group, size = [], 0
            out.append(detect(text))
            continue
        group.append(text)
        size += len(text) + len(_JOIN)
        if size >= block:
            out.extend(_detect_joined(group))
            group, size = [], 0
    out.extend(_detect_joined(group))
    return out


def _detect_joined(texts: list[str]) -> list[list[PhiSpan]]:
    if len(texts) <= 1:
        return [detect(text) for text in texts]
    starts = list(accumulate((len(t) + len(_JOIN) for t in texts[:-1]), initial=0))
    out: list[list[PhiSpan]] = [[] for _ in texts]
    for span in detect(_JOIN.join(texts)):
        i = bisect_right(starts, span.start) - 1
        start, end = span.start - starts[i], min(span.end - starts[i], len(texts[i]))
        if end > start:  # a span reaching past its text (none is known to) is cut at the text's end
            out[i].append(span.model_copy(update={"start": start, "end": end}))
    return out


def iter_spans(text: str, window: int = 1 << 20, overlap: int = 512) -> Iterator[PhiSpan]:
    """Detect PHI in a very large text window by window, holding one window's candidates at a time.

    Each window starts ``overlap`` characters before the first offset it reports and stops ``overlap``
    characters after the last, so a span shorter than ``overlap`` is found whole and with its context.

    Args:
        text: The text.
        window: Characters per window.
        overlap: Characters shared by consecutive windows.

    Yields:
        Spans in order, with offsets into ``text``.
    """
    window = max(window, 4 * overlap)  # each window must leave room past its two overlaps
    pos = emitted = 0
    while True:
        start = max(0, pos - overlap)  # left context, so a label before a value is seen
        stop = min(len(text), start + window)
        keep_until = len(text) if stop == len(text) else stop - overlap
        for span in detect(text[start:stop]):
            s, e = span.start + start, span.end + start
            if s >= max(pos, emitted) and s < keep_until:
                yield span.model_copy(update={"start": s, "end": e})
                emitted = e
        if stop == len(text):
            return
        pos = max(keep_until, emitted)


__all__ = ["PhiSpan", "PhiType", "detect", "detect_batch", "iter_spans"]
