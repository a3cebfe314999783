r"""Running many pattern rules over a text in a few passes.

Python's ``re`` skips quickly to the characters a pattern can start with, but only when the pattern
opens with a plain character class; one that opens with an assertion (``\b``, a look-behind) or an
optional part is tried at every position, and ~80 such rules cost ~80 slow passes. So every rule names
the class of characters its matches start with (its *gate*), and the rules that share a gate run as one
*scan*::

    [gate](?<=(?:(?=(?P<_g0>rule 0)))?(?:(?=(?P<_g1>rule 1)))?…[gate])(?(_g0)|(?(_g1)|…(?!)))

The scan consumes one gate character; from a one-character look-behind it looks ahead for each rule
starting at that character (group ``_g<i>`` is rule *i*'s own match there), and the conditional at the
end rejects positions where no rule matched. A rule's matches may then overlap; :func:`run_scans` drops
the ones that start inside the rule's previous match, exactly as ``finditer`` on the rule alone would.
Rules therefore must not use back-references (they sit inside a look-behind), and a gate must hold
every character a match of its rules can start with.

A rule whose matches all contain a rarer *anchor* (a keyword such as "County" or "@") runs only near the
anchor's hits instead: a match may start at most ``reach`` characters before its anchor and end at most
``reach`` after it. Anchors of case-insensitive rules are written in lowercase and run on a lowercased
copy of the text, so they can open with a plain literal and be found by the fast skip.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from medsec.phi.model import PhiType
from medsec.phi.patterns import VALIDATORS, Candidate

_NAMED = re.compile(r"\(\?P(<|=)(\w+)")


@dataclass(frozen=True)
class Rule:
    """One pattern rule, not yet compiled.

    Attributes:
        id: Name of the rule in its data file.
        type: The kind of identifier it finds.
        score: Confidence given to its spans.
        pattern: The expanded regex; its group ``v``, when present, is the span.
        flags: ``re`` flags of the pattern (only ``re.IGNORECASE`` is honoured).
        first: The gate: a character class holding every character a match can start with; rules
            without one run in a plain pass of their own.
        validate: Name of a checksum the span must pass, if any.
        labels: For a rule over many labels, the type of each label (keyed by :func:`label_key`);
            the label a match found is its group ``lab``, and the rule's ``type`` is unused.
        anchor: A regex that every match contains (lowercase when the rule ignores case); the rule
            then runs only within ``reach`` characters of the anchor's hits, and ``first`` is unused.
        reach: How far before its anchor a match may start, and after it end.
        anchor_is_match: The anchor is the rule's own (lowercase) pattern less its leading word
            boundary, so a hit that starts a word is the rule's match itself.
    """

    id: str
    type: PhiType
    score: float
    pattern: str
    flags: int = 0
    first: str | None = None
    validate: str | None = None
    labels: Mapping[str, PhiType] | None = None
    anchor: str | None = None
    reach: int = 0
    anchor_is_match: bool = False


@dataclass(frozen=True)
class Scan:
    """One compiled regex running one or more rules.

    Attributes:
        regex: The compiled scan.
        rules: The rules it runs, in group order.
        groups: Per rule, the group numbers of its own match, its span and its label (-1: none).
        anchor: For an anchored rule, its compiled anchor.
        anchor_groups: The anchor's groups ``v`` and ``lab`` (0 and -1 when absent).
        lower: Whether the anchor runs on the lowercased text.
        whole: Whether the anchor's hits are the rule's matches (``Rule.anchor_is_match``).
    """

    regex: re.Pattern[str]
    rules: tuple[Rule, ...]
    groups: tuple[tuple[int, int, int], ...]
    anchor: re.Pattern[str] | None = None
    anchor_groups: tuple[int, int] = (0, -1)
    lower: bool = False
    whole: bool = False


def label_key(label: str) -> str:
    """The form a label is looked up by: lowercase, without spaces and apostrophes."""
    return re.sub(r"[\s'’]", "", label.lower())


def _own(rule: Rule, i: int) -> str:
    body = _NAMED.sub(lambda m: f"(?P{m.group(1)}{m.group(2)}_{i}", rule.pattern)
    return f"(?i:{body})" if rule.flags & re.IGNORECASE else body


def _gated(first: str, rules: list[Rule]) -> str:
    # A gate "\b[...]" also promises that no word character precedes a match: checked once, up front.
    boundary, first = ("(?<!\\w)", first[2:]) if first.startswith("\\b") else ("", first)
    if len(rules) == 1:
        return f"(?-i:{first})(?<={boundary}(?=(?P<_g0>{_own(rules[0], 0)}))(?-i:{first}))"
    parts = "".join(f"(?:(?=(?P<_g{i}>{_own(rule, i)}))|)" for i, rule in enumerate(rules))
    chain = "(?!)"
    for i in reversed(range(len(rules))):
        chain = f"(?(_g{i})|{chain})"
    return f"(?-i:{first})(?<={boundary}{parts}(?-i:{first})){chain}"


def _scan(regex: re.Pattern[str], rules: list[Rule], gated: bool, anchor: str | None = None) -> Scan:
    """A scan of ``rules`` (group names suffixed by rule index when ``gated``)."""
    index = regex.groupindex
    groups = []
    for i in range(len(rules)):
        own, value, label = (f"_g{i}", f"v_{i}", f"lab_{i}") if gated else ("", "v", "lab")
        own_group = index.get(own, 0)
        groups.append((own_group, index.get(value, own_group), index.get(label, -1)))
    if anchor is None:
        return Scan(regex, tuple(rules), tuple(groups))
    compiled, rule = re.compile(anchor), rules[0]
    anchor_groups = (compiled.groupindex.get("v", 0), compiled.groupindex.get("lab", -1))
    lower = bool(rule.flags & re.IGNORECASE)
    return Scan(regex, tuple(rules), tuple(groups), compiled, anchor_groups, lower, rule.anchor_is_match)


def compile_scans(rules: Iterable[Rule]) -> tuple[Scan, ...]:
    """Compile ``rules`` into scans: one per gate shared by several rules, one per ungated rule.

    Raises:
        re.error: When a pattern does not compile.
    """
    by_gate: dict[str, list[Rule]] = {}
    scans = []
    for rule in rules:
        if rule.anchor is not None or rule.first is None:
            if rule.first is None:
                scans.append(_scan(re.compile(rule.pattern, rule.flags), [rule], False, rule.anchor))
            else:
                scans.append(_scan(re.compile(_gated(rule.first, [rule])), [rule], True, rule.anchor))
        else:
            by_gate.setdefault(rule.first, []).append(rule)
    for first, members in by_gate.items():
        scans.append(_scan(re.compile(_gated(first, members)), members, gated=True))
    return tuple(scans)


def run_scans(text: str, scans: Iterable[Scan]) -> list[Candidate]:
    """The candidates every rule of ``scans`` finds in ``text``.

    Args:
        text: Normalised text.
        scans: Compiled scans.

    Returns:
        One candidate per match of a rule that passes its checksum.
    """
    found: list[Candidate] = []
    lower = lowercase(text)
    for scan in scans:
        anchor = scan.anchor
        if anchor is None:
            _collect(text, scan, 0, len(text), found)
            continue
        haystack = lower if scan.lower else text
        if anchor.search(haystack) is None:
            continue
        if scan.whole:
            _collect_hits(text, haystack, scan, anchor, found)
        else:
            for start, end in _windows(text, haystack, scan.rules[0].reach, anchor):
                _collect(text, scan, start, end, found)
    return found


def _collect_hits(text: str, lower: str, scan: Scan, anchor: re.Pattern[str], found: list[Candidate]) -> None:
    """Take the hits of a rule's own pattern as its matches where they start a word."""
    rule, (value, label) = scan.rules[0], scan.anchor_groups
    for hit in anchor.finditer(lower):
        at = hit.start()
        if text[at].isalnum() and (at == 0 or not (text[at - 1].isalnum() or text[at - 1] == "_")):
            candidate = _candidate(text, rule, hit.span(value), hit[label] if label > 0 else None)
            if candidate is not None:
                found.append(candidate)
        else:  # inside a word: the rule may still match further on, within the hit
            _collect(text, scan, at + 1, hit.end() + rule.reach, found)


def _collect(text: str, scan: Scan, pos: int, endpos: int, found: list[Candidate]) -> None:
    last: list[int] = []
    for match in scan.regex.finditer(text, pos, endpos):
        regs = match.regs
        last = last or [-1] * len(scan.groups)
        for i, (own, value, label) in enumerate(scan.groups):
            own_start, own_end = regs[own]
            if own_start < 0 or own_start < last[i]:  # not here, or inside the rule's previous match
                continue
            last[i] = own_end
            candidate = _candidate(text, scan.rules[i], regs[value], match[label] if label > 0 else None)
            if candidate is not None:
                found.append(candidate)


def _candidate(text: str, rule: Rule, span: tuple[int, int], label: str | None) -> Candidate | None:
    start, end = span
    if start < 0 or end <= start:
        return None
    if rule.validate is not None and not VALIDATORS[rule.validate](text[start:end]):
        return None
    kind = rule.type if rule.labels is None or label is None else rule.labels.get(label_key(label))
    return None if kind is None else Candidate(start, end, kind, rule.score)


def lowercase(text: str) -> str:
    """``text`` in lowercase, with the same length (so the same offsets)."""
    lower = text.lower()
    if len(lower) == len(text):
        return lower
    return "".join(c if len(c.lower()) != 1 else c.lower() for c in text)  # e.g. "İ" lowercases to two


def _windows(text: str, haystack: str, reach: int, anchor: re.Pattern[str]) -> list[tuple[int, int]]:
    """The stretches of ``text`` around the anchor's hits in ``haystack``, merged where they are close."""
    windows: list[tuple[int, int]] = []
    for hit in anchor.finditer(haystack):
        start, end = max(0, hit.start() - reach), hit.end() + reach + 8  # 8: room for look-aheads
        start = max(text.rfind(" ", 0, start), text.rfind("\n", 0, start)) + 1  # whole words only
        if windows and start <= windows[-1][1]:
            windows[-1] = (windows[-1][0], end)
        else:
            windows.append((start, end))
    return windows
