"""Loading the PHI engine's rules and lexicons from the data files beside this module.

Everything here is read once per process (``load_rules`` is cached) and compiled into regular
expressions and frozen sets; detection itself never touches a file.
"""

from __future__ import annotations

import dataclasses
import functools
import re
from dataclasses import dataclass, field
from importlib import resources
from types import MappingProxyType
from typing import Any

import yaml

from medsec.errors import ConfigError
from medsec.phi.model import PhiType
from medsec.phi.scan import Rule, Scan, compile_scans, label_key

_FLAGS = {"": 0, "i": re.IGNORECASE}
_MACRO = re.compile(r"\{([A-Z0-9_]+)\}")
_VALUE = r"(?P<v>#?(?=[A-Za-z/.-]*\d[A-Za-z/.-]*\d)[A-Za-z0-9](?:[A-Za-z0-9/.-]{0,30}[A-Za-z0-9])?)"
_MARKER = r"(?:number|no\.?|num\.?|nbr|#|id|code|:)"


@dataclass(frozen=True)
class Lexicons:
    """Word sets of the name finder (lowercase) and the place regexes.

    Attributes:
        first: First names.
        last: Surnames.
        ambiguous: Names that are everyday words too; they need context.
        titles: Words before a name.
        credentials: Words after a name.
        context_strong: Relation words after which a name-lexicon word is a name.
        context_weak: Prepositions and verbs after which an unambiguous capitalised word is a name.
        not_names: Eponyms, scores and brands that are names only with a title.
        eponym_nouns: Words after an eponym that make it a disease or device.
        stopwords: Capitalised words that are never names on their own.
        restricted_zip3: ZIP prefixes Safe Harbor turns into ``000``.
        lower_context: Finds up to two lowercase words after a relation word (groups ``a``, ``b``).
        lower_hint: Where ``lower_context`` may match, found fast in the lowercased text.
        kinds: The name finder's memo of how it classed each capitalised word (a cache, not data).
    """

    first: frozenset[str]
    last: frozenset[str]
    ambiguous: frozenset[str]
    titles: frozenset[str]
    credentials: frozenset[str]
    context_strong: frozenset[str]
    context_weak: frozenset[str]
    not_names: frozenset[str]
    eponym_nouns: frozenset[str]
    stopwords: frozenset[str]
    restricted_zip3: frozenset[str]
    lower_context: re.Pattern[str]
    lower_hint: re.Pattern[str]
    kinds: dict[str, int] = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class Rules:
    """Everything the detector runs: the scans of every pattern rule, and the name lexicons."""

    scans: tuple[Scan, ...]
    lexicons: Lexicons


_CAPITALS = "\\b[#A-Z]"
_WEAK_CONTEXT = frozenset({"by", "with", "to", "from", "called", "paged", "cc", "signed", "seen", "contact"})


def _read(name: str) -> Any:
    try:
        text = resources.files("medsec.phi").joinpath(name).read_text(encoding="utf-8")
        return yaml.load(text, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))
    except (OSError, yaml.YAMLError) as exc:
        raise ConfigError(f"medsec.phi/{name}: cannot load PHI rules ({type(exc).__name__})") from None


def _words(name: str) -> frozenset[str]:
    text = resources.files("medsec.phi").joinpath(name).read_text(encoding="utf-8")
    return frozenset(w for w in text.split("\n") if w and not w.startswith("#"))


def _expand(pattern: str, macros: dict[str, str]) -> str:
    for _ in range(3):  # macros may use macros
        pattern = _MACRO.sub(lambda m: macros.get(m.group(1), m.group(0)), pattern)
    return pattern


def _first_chars(words: Any) -> str:
    chars = {c for w in words for c in (w[0].lower(), w[0].upper())}
    return "[" + "".join(re.escape(c) for c in sorted(chars)) + "]"


def _anchor(anchor: str | None, pattern: str, flags: int, macros: dict[str, str]) -> str | None:
    """The anchor regex of a rule; ``self`` is its own (lowercase) pattern less a leading word boundary."""
    if anchor != "self":
        return _expand(anchor, macros) if anchor else None
    if not flags & re.IGNORECASE or re.search("[A-Z]", re.sub(r"\\.|\(\?P<\w+>", "", pattern)):
        raise ValueError("'anchor: self' needs a case-insensitive rule written in lowercase")
    return pattern.removeprefix("\\b")


def _rule(raw: dict[str, Any], macros: dict[str, str], kind: PhiType | None = None) -> Rule:
    try:
        pattern, flags = _expand(raw["pattern"], macros), int(_FLAGS[raw.get("flags", "")])
        re.compile(pattern, flags)  # a broken rule is named here, not inside the scan it joins
        kind = kind or PhiType(raw["type"])
        score, first, validate = float(raw["score"]), raw.get("first"), raw.get("validate")
        anchor, reach = _anchor(raw.get("anchor"), pattern, flags, macros), int(raw.get("reach", 0))
        rule = Rule(raw["id"], kind, score, pattern, flags, first, validate, anchor=anchor, reach=reach)
        return dataclasses.replace(rule, anchor_is_match=raw.get("anchor") == "self")
    except (KeyError, ValueError, re.error) as exc:
        raise ConfigError(f"medsec.phi rule {raw.get('id')!r}: {exc}") from None


def _trie(words: list[str], space: str = r"\s*") -> str:
    """One regex alternation of ``words`` factored by common prefix, so a mismatch fails on one char.

    Python's ``re`` tries the branches of a plain alternation one by one at every position; a trie
    makes phrase lists of hundreds of entries cost about as much as one.
    """
    tree: dict[str, Any] = {}
    for word in set(words):
        node = tree
        for ch in word:
            node = node.setdefault(ch, {})
        node[""] = {}
    return _trie_node(tree, space)


def _trie_node(node: dict[str, Any], space: str) -> str:
    ends = "" in node
    branches = []
    for ch in sorted(k for k in node if k):
        atom = space if ch == " " else "['’]?" if ch == "'" else re.escape(ch)
        branches.append(atom + _trie_node(node[ch], space))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if ends else body


def _label_rule(rule_id: str, score: float, kinds: dict[str, PhiType], tail: str) -> Rule:
    """One rule for the labels of every type; the type comes from the label that matched."""
    first = _first_chars(kinds)
    lookup: dict[str, PhiType] = {}
    for label, kind in kinds.items():
        lookup.setdefault(label_key(label), kind)  # a label listed twice keeps its first type
    pattern = rf"\b(?P<lab>{_trie(sorted(kinds))}){tail}{_VALUE}"
    labels, anchor = MappingProxyType(lookup), pattern.removeprefix("\\b")  # labels are lowercase
    flags = int(re.IGNORECASE)
    rule = Rule(rule_id, PhiType.ID, score, pattern, flags, first, labels=labels, anchor=anchor, reach=48)
    return dataclasses.replace(rule, anchor_is_match=True)


def _labelled(data: dict[str, Any]) -> list[Rule]:
    strong: dict[str, PhiType] = {}
    weak: dict[str, PhiType] = {}
    for kind, labels in data["labelled"].items():
        for target, key in ((strong, "strong"), (weak, "weak")):
            for label in labels.get(key) or ():
                target.setdefault(str(label).lower(), PhiType(kind))
    rules = [
        _label_rule("label", 0.9, strong, rf"(?:\s*{_MARKER})?\s*(?:is|was|of|=)?\s*[:#]?\s*\(?"),
        _label_rule("weak_label", 0.85, weak, rf"\s*{_MARKER}\s*(?:is\s*)?[:#]?\s*"),
    ]
    return rules + [_rule(raw, {}, PhiType.ID) for raw in data["generic_ids"]]


def _lexicon_regex(rule_id: str, kind: PhiType, score: float, words: list[str], suffix: str = "") -> Rule:
    # Capitalised entries share the gate of the capital-led rules in patterns.yaml, and so their scan.
    capitals = all("A" <= w[0] <= "Z" for w in words)
    first = _CAPITALS if capitals else "[" + "".join(sorted({re.escape(w[0]) for w in words})) + "]"
    variants = {v for w in words for v in (w, w.replace(" and ", " & "), w.replace(" & ", " and "))}
    body = _trie(sorted(variants), r"[\s-]+")
    return Rule(rule_id, kind, score, rf"(?<![\w-])(?:{body}){suffix}(?![\w-])", first=first)


# Words that may follow a known health system's name and belong to it ("Harborview Medical Center").
_FACILITY_SUFFIX = r"(?:\s+(?:Medical|Med|Hospitals?|Health(?:care)?|Medicine|Clinic|Cent(?:er|re)|System))*"


def _lexicons(names: dict[str, Any], places: dict[str, Any]) -> Lexicons:
    lower = {k: frozenset(str(w).lower() for w in v) for k, v in names.items()}
    context = lower["context_before"]
    strong = sorted(context - _WEAK_CONTEXT)
    word, relations = r"[a-z][a-z'’-]+", _trie(strong, " ")
    lower_context = re.compile(rf"\b(?i:{relations})\.?:?\s+(?P<a>{word})(?:\s+(?P<b>{word}))?")
    lower_hint = re.compile(rf"{relations}(?=\.?:?\s+[a-z])")  # on lowercased text: opens with a literal
    return Lexicons(
        first=_words("lexicons/first_names.txt"),
        last=_words("lexicons/surnames.txt"),
        ambiguous=_words("lexicons/name_words.txt") - lower["name_dominant"],
        titles=lower["titles"],
        credentials=lower["credentials"],
        context_strong=context - _WEAK_CONTEXT,
        context_weak=context & _WEAK_CONTEXT,
        not_names=lower["not_names"],
        eponym_nouns=lower["eponym_nouns"],
        stopwords=lower["stopwords"],
        restricted_zip3=frozenset(str(z) for z in places["restricted_zip3"]),
        lower_context=lower_context,
        lower_hint=lower_hint,
    )


@functools.cache
def load_rules() -> Rules:
    """Load, validate and compile the rule files (once per process).

    Returns:
        The compiled rules.

    Raises:
        ConfigError: When a rule file is missing or a rule does not compile.
    """
    patterns = _read("rules/patterns.yaml")
    macros = patterns.get("macros", {})
    names, places = _read("rules/names.yaml"), _read("rules/places.yaml")
    rules = [_rule(raw, macros) for raw in patterns["rules"]] + _labelled(_read("rules/context.yaml"))
    facilities = places["facilities"]
    rules.append(_lexicon_regex("facility_list", PhiType.FACILITY, 0.85, facilities, _FACILITY_SUFFIX))
    rules.append(_lexicon_regex("city_list", PhiType.LOCATION, 0.88, places["cities"]))
    try:
        scans = compile_scans(rules)
    except re.error as exc:  # a gate or a rule that compiles alone but not inside a scan
        raise ConfigError(f"medsec.phi rules: cannot compile a scan ({exc})") from None
    return Rules(scans, _lexicons(names, places))
