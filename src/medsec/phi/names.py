"""Finding person names: census lexicons, titles, credentials and relation words as context.

Capitalised words (and ALL-CAPS ones) are classed one by one, then grouped into runs of adjacent words.
A run becomes a name around its *anchors*: unambiguous lexicon names, words after a title or a relation
word, words before a credential. Anchors spread to their neighbours in the run (initials, unknown
capitalised words, names that are also everyday words). Eponyms followed by a disease word ("Bell's
palsy") and words that are everyday words too ("Will", "Hope") are never anchors on their own.
"""

from __future__ import annotations

import re
from collections.abc import Iterator

from medsec.phi.dates import MONTHS
from medsec.phi.model import PhiType
from medsec.phi.patterns import Candidate
from medsec.phi.rules import Lexicons
from medsec.phi.scan import lowercase

# The look-behind follows the first letter so that the scan can skip straight to capitals.
_TOKEN = re.compile(r"[A-Z](?<![\w'’-][A-Z])[A-Za-z]*(?:['’][A-Za-z]+|-[A-Za-z]+)*\.?")
_GAP = re.compile(r"\s{1,2}|,\s|\s?-\s?")
_PREV_WORD = re.compile(r"([A-Za-z][A-Za-z./-]*)[.,:]?\s+$")
_NEXT_WORD = re.compile(r"\s*(?:'s|’s|s')?\s*([A-Za-z]+)")
_CREDENTIAL = re.compile(r",?\s*([A-Za-z][A-Za-z.-]{1,7})\b")
# Credentials that are also everyday words: they count only in capitals or with dots.
_COMMON_WORD_CREDENTIALS = frozenset({"do", "pt", "pa", "ot", "od", "ii", "iv"})
_TITLE_BEFORE = re.compile(r"\b(?:Dr|Mr|Mrs|Ms|Miss|Mx|Prof|Rev|DR|MR|MRS|MS)\.?\s{1,2}$")
_MONTHS = frozenset(
    [
        *MONTHS,
        "jan",
        "feb",
        "mar",
        "apr",
        "jun",
        "jul",
        "aug",
        "sep",
        "sept",
        "oct",
        "nov",
        "dec",
        "monday",
        "tuesday",
        "wednesday",
        "thursday",
        "friday",
        "saturday",
        "sunday",
    ]
)

STRONG, WEAK, UNKNOWN, INITIAL, STOP = range(5)


def _key(word: str) -> str:
    word = word.rstrip(".").lower().replace("’", "'")
    return word[:-2] if word.endswith("'s") else word


def _kind(word: str, lex: Lexicons) -> int:
    """The class of a capitalised word; remembered per word, as the same words recur."""
    kind = lex.kinds.get(word)
    if kind is None:
        if len(lex.kinds) > 200_000:  # bounded: a text of endless new words must not grow it forever
            lex.kinds.clear()
        kind = lex.kinds[word] = _classify(word, lex)
    return kind


def _classify(word: str, lex: Lexicons) -> int:
    key = _key(word)
    if len(key) == 1:
        return INITIAL
    if key in lex.stopwords or key in _MONTHS or key in lex.titles or key in lex.credentials:
        return STOP
    if key in lex.not_names:
        return WEAK
    parts = key.split("-")
    known = all(p in lex.first or p in lex.last for p in parts if p)
    if not known:
        return UNKNOWN if word[1:].islower() else WEAK if len(key) > 3 else STOP
    if key in lex.ambiguous or (len(key) <= 3 and word.isupper()):
        return WEAK
    return STRONG


def _runs(text: str, lex: Lexicons) -> Iterator[list[tuple[int, int, int]]]:
    """Group capitalised tokens separated only by a space, a comma or a hyphen into runs."""
    run: list[tuple[int, int, int]] = []
    for m in _TOKEN.finditer(text):
        start, end = m.span()
        kind = _kind(m.group(), lex)
        if kind != INITIAL and text[end - 1] == ".":
            end -= 1  # a sentence's full stop, not part of the name
        if run and (start - run[-1][1] > 3 or not _GAP.fullmatch(text, run[-1][1], start)):  # gaps: <= 3
            yield run
            run = []
        if kind == STOP:
            if run:
                yield run
            run = [(start, end, STOP)]
            continue
        run.append((start, end, kind))
    if run:
        yield run


def _context_before(text: str, start: int, lex: Lexicons) -> int:
    """2 after a title or relation word, 1 after a weak context word, else 0."""
    m = _PREV_WORD.search(text, max(0, start - 24), start)
    if m is None:
        return 0
    word = m.group(1).lower().rstrip(".")
    if word in lex.titles or word + "." in lex.titles or word in lex.context_strong:
        return 2
    return 1 if word in lex.context_weak else 0


def _is_eponym(text: str, end: int, lex: Lexicons) -> bool:
    m = _NEXT_WORD.match(text, end)
    return m is not None and m.group(1).lower() in lex.eponym_nouns


def _credential_after(text: str, end: int, lex: Lexicons) -> bool:
    m = _CREDENTIAL.match(text[end : end + 12])
    if m is None or m.group(1).lower() not in lex.credentials:
        return False
    word = m.group(1)
    if word.lower() in _COMMON_WORD_CREDENTIALS:  # "How Do I", "Well, do you": only "DO" or "D.O."
        return word.isupper() or "." in word
    # lowercase only after a comma ("Ann Lee, md"): "What do you think?" is not "What, D.O."
    return m.group(0).lstrip().startswith(",") or not word.islower()


def _anchors(text: str, run: list[tuple[int, int, int]], lex: Lexicons) -> list[bool]:
    marks = [k == STRONG and not _is_eponym(text, e, lex) for s, e, k in run]
    first_start = next((i for i, (_, _, k) in enumerate(run) if k != STOP), None)
    if first_start is not None:
        ctx = _context_before(text, run[first_start][0], lex)
        kind = run[first_start][2]
        eponym = _is_eponym(text, run[first_start][1], lex)
        if not eponym and (ctx == 2 or (ctx == 1 and kind in (UNKNOWN, STRONG))):
            marks[first_start] = True
    last = len(run) - 1
    if run[last][2] != STOP and _credential_after(text, run[last][1], lex):
        marks[last] = True
    for i in range(len(run) - 1):  # "Tom H.", "Will R.": a first name and an initial with its stop
        if run[i][2] == WEAK and run[i + 1][2] == INITIAL and text[run[i + 1][1] - 1] == ".":
            marks[i] = marks[i] or not _is_eponym(text, run[i][1], lex)
    return marks


def _spread(run: list[tuple[int, int, int]], marks: list[bool]) -> list[bool]:
    changed = True
    while changed:
        changed = False
        for i, (_, _, kind) in enumerate(run):
            if marks[i] or kind == STOP:
                continue
            if (i > 0 and marks[i - 1]) or (i + 1 < len(run) and marks[i + 1]):
                marks[i] = changed = True
    return marks


def find_names(text: str, lex: Lexicons) -> Iterator[Candidate]:
    """Yield name candidates in normalised ``text``.

    Args:
        text: Normalised text.
        lex: The name lexicons.

    Yields:
        One candidate per maximal run of name words.
    """
    for run in _runs(text, lex):
        if all(kind == STOP for _, _, kind in run):
            continue  # headings and function words: no anchor can arise
        marks = _spread(run, _anchors(text, run, lex))
        i = 0
        while i < len(run):
            if not marks[i]:
                i += 1
                continue
            j = i
            while j + 1 < len(run) and marks[j + 1]:
                j += 1
            start, end = run[i][0], run[j][1]
            title = _TITLE_BEFORE.search(text, max(0, start - 8), start)
            if end - start > 1 or run[i][2] != INITIAL:
                yield Candidate(title.start() if title else start, end, PhiType.NAME, 0.85)
            i = j + 1
    yield from _lowercase_names(text, lex)


def _lowercase_names(text: str, lex: Lexicons) -> Iterator[Candidate]:
    """Names in lowercase shorthand after a relation word: ``pt john smith``, ``wife mary``."""
    for hint in lex.lower_hint.finditer(lowercase(text)):
        m = lex.lower_context.match(text, hint.start())
        if m is None:
            continue
        for group in ("a", "b"):
            word = m.group(group)
            if word is None or not _lower_name(word, lex, group == "b"):
                break
            yield Candidate(m.start(group), m.end(group), PhiType.NAME, 0.75)


def _lower_name(word: str, lex: Lexicons, second: bool) -> bool:
    key = _key(word)
    return (
        (key in lex.first or key in lex.last)
        and (second or key not in lex.ambiguous)
        and key not in lex.stopwords
        and key not in lex.not_names
        and key not in _MONTHS
    )
