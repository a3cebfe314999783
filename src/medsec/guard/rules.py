"""Pattern rules as data: load a YAML rule file once and match its rules against a canonical text.

Rules are matched against text folded by :func:`medsec.guard.textnorm.canonical` (lower case), so a
pattern with no upper-case letter is compiled case-sensitively: Python's ``re`` matches about twice as
fast without ``IGNORECASE``. A pattern that spells an upper-case letter keeps ``IGNORECASE``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from functools import lru_cache
from importlib import resources
from pathlib import Path

from pydantic import Field

from medsec.config import read_yaml, validate_document
from medsec.errors import ConfigError
from medsec.guard.scanner import Channel
from medsec.types import Frozen

# an upper-case letter that is not part of an escape such as \S, \W, \D or \B
_UPPER = re.compile(r"(?<!\\)[A-Z]")


class _Rule(Frozen):
    id: str = Field(pattern=r"^[a-z0-9-]+$")
    pattern: str
    score: float = Field(gt=0, le=1)
    channels: tuple[Channel, ...] | None = None
    needs: tuple[str, ...] = ()


class _RuleFile(Frozen):
    rules: tuple[_Rule, ...] = Field(min_length=1)


@dataclass(frozen=True)
class Rule:
    """A compiled rule: id, regular expression, score, the channels it applies to (None: all).

    ``needs``: substrings one of which must occur in the (lower-case) text for the rule to be tried at
    all; a cheap test that spares slow patterns most texts.
    """

    id: str
    regex: re.Pattern[str]
    score: float
    channels: frozenset[Channel] | None
    needs: tuple[str, ...] = ()

    def applies(self, channel: Channel | None) -> bool:
        """Whether the rule runs on ``channel`` (every rule runs when the channel is unknown)."""
        return channel is None or self.channels is None or channel in self.channels


def data_path(name: str) -> Path:
    """A file shipped in ``medsec/guard/data``."""
    return Path(str(resources.files("medsec.guard") / "data" / name))


@lru_cache(maxsize=16)
def load_rules(path: str) -> tuple[Rule, ...]:
    """Load and compile a rule file.

    Raises:
        ConfigError: When the file is invalid or a pattern does not compile (with file and line).
    """
    doc = read_yaml(path)
    parsed = validate_document(_RuleFile, doc)
    out = []
    for i, rule in enumerate(parsed.rules):
        try:
            source = "".join(part.strip() for part in rule.pattern.splitlines())
            flags = re.MULTILINE | (re.IGNORECASE if _UPPER.search(source) else 0)
            regex = re.compile(source, flags)
        except re.error as exc:
            line = doc.line_of(("rules", i, "pattern"))
            raise ConfigError(
                f"{path}:{line}: rules.{i}.pattern: invalid regular expression ({exc.msg})"
            ) from None
        channels = frozenset(rule.channels) if rule.channels is not None else None
        out.append(Rule(rule.id, regex, rule.score, channels, rule.needs))
    return tuple(out)


def match(
    rules: tuple[Rule, ...], text: str, channel: Channel | None = None
) -> list[tuple[Rule, re.Match[str]]]:
    """The rules that match ``text`` (canonical: lower case) on ``channel``, each with its first match."""
    out = []
    for rule in rules:
        if rule.applies(channel) and (not rule.needs or any(n in text for n in rule.needs)):
            found = rule.regex.search(text)
            if found is not None:
                out.append((rule, found))
    return out
