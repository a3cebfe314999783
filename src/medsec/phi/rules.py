"""Loading the PHI engine's rules and lexicons from the data files beside this module.

Everything here is read once per process (``load_rules`` is cached) and compiled into regular
expressions and frozen sets; detection itself never touches a file.
"""

from __future__ import annotations

import functools
import re
from dataclasses import dataclass
from importlib import resources
from typing import Any

import yaml

from medsec.errors import ConfigError
from medsec.phi.model import PhiType

_FLAGS = {"": 0, "i": re.IGNORECASE}
_MACRO = re.compile(r"\{([A-Z0-9_]+)\}")
_VALUE = r"(?P<v>#?(?=[A-Za-z/.-]*\d[A-Za-z/.-]*\d)[A-Za-z0-9](?:[A-Za-z0-9/.-]{0,30}[A-Za-z0-9])?)"
_MARKER = r"(?:number|no\.?|num\.?|nbr|#|id|code|:)"


@dataclass(frozen=True)
class Rule:
    """One compiled pattern rule.

    Attributes:
        id: Name of the rule in its data file.
        type: The kind of identifier it finds.
        score: Confidence given to its spans.
        regex: The compiled pattern; its group ``v``, when present, is the span.
        validate: Name of a checksum the match must pass, if any.
    """

    id: str
    type: PhiType
    score: float
    regex: re.Pattern[str]
    validate: str | None = None


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
        lower_context: Finds up to two lowercase words after a relation word (groups 1 and 2).
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


@dataclass(frozen=True)
class Rules:
    """Everything the detector runs: pattern rules, labelled-id rules and lexicons."""

    patterns: tuple[Rule, ...]
    lexicons: Lexicons
    places: tuple[Rule, ...]


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


def _rule(raw: dict[str, Any], macros: dict[str, str], kind: PhiType | None = None) -> Rule:
    try:
        regex = re.compile(_expand(raw["pattern"], macros), _FLAGS[raw.get("flags", "")])
        return Rule(raw["id"], kind or PhiType(raw["type"]), float(raw["score"]), regex, raw.get("validate"))
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
        atom = space if ch == " " else "'?" if ch == "'" else re.escape(ch)
        branches.append(atom + _trie_node(node[ch], space))
    if not branches:
        return ""
    body = branches[0] if len(branches) == 1 else "(?:" + "|".join(branches) + ")"
    return f"(?:{body})?" if ends else body


def _phrases(words: list[str]) -> str:
    return _trie(sorted({w.lower() for w in words}))


def _labelled(data: dict[str, Any]) -> list[Rule]:
    rules = []
    for kind, labels in data["labelled"].items():
        strong = rf"\b(?:{_phrases(labels['strong'])})(?:\s*{_MARKER})?\s*(?:is|was|of|=)?\s*[:#]?\s*\(?"
        rules.append(Rule(f"label:{kind}", PhiType(kind), 0.9, re.compile(strong + _VALUE, re.IGNORECASE)))
        if labels.get("weak"):
            weak = rf"\b(?:{_phrases(labels['weak'])})\s*{_MARKER}\s*(?:is\s*)?[:#]?\s*"
            rules.append(Rule(f"weak:{kind}", PhiType(kind), 0.85, re.compile(weak + _VALUE, re.IGNORECASE)))
    rules += [_rule(raw, {}, PhiType.ID) for raw in data["generic_ids"]]
    return rules


def _lexicon_regex(rule_id: str, kind: PhiType, score: float, words: list[str]) -> Rule:
    body = _trie(words, r"\s+")
    return Rule(rule_id, kind, score, re.compile(rf"(?<![\w-])(?:{body})(?![\w-])"))


def _lexicons(names: dict[str, Any], places: dict[str, Any]) -> Lexicons:
    lower = {k: frozenset(str(w).lower() for w in v) for k, v in names.items()}
    context = lower["context_before"]
    strong = sorted(context - _WEAK_CONTEXT, key=len, reverse=True)
    lower_context = re.compile(
        rf"\b(?i:{'|'.join(map(re.escape, strong))})\.?:?\s+([a-z][a-z'’-]+)(?:\s+([a-z][a-z'’-]+))?"
    )
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
    compiled = [_rule(raw, macros) for raw in patterns["rules"]] + _labelled(_read("rules/context.yaml"))
    lexicon_rules = (
        _lexicon_regex("facility_list", PhiType.FACILITY, 0.85, places["facilities"]),
        _lexicon_regex("city_list", PhiType.LOCATION, 0.88, places["cities"]),
    )
    return Rules(tuple(compiled), _lexicons(names, places), lexicon_rules)
