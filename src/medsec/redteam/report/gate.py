"""CI thresholds: ``--fail-on 'asr>0.05'`` and friends decide a scan's exit code."""

from __future__ import annotations

import operator
import re
from collections.abc import Callable

from medsec.errors import ConfigError
from medsec.redteam.report.summary import Rate, Summary
from medsec.types import Frozen

_OPS: dict[str, Callable[[float, float], bool]] = {
    ">=": operator.ge,
    "<=": operator.le,
    ">": operator.gt,
    "<": operator.lt,
    "==": operator.eq,
}
_METRICS = ("asr", "ci_low", "ci_high", "successes", "errors", "unjudged")
_RULE = re.compile(
    r"^\s*(?:(?P<scope>[\w.-]+)\.)?(?P<metric>\w+)\s*(?P<op>>=|<=|==|>|<)\s*(?P<value>[\d.]+)\s*$"
)


class Rule(Frozen):
    """A threshold ``[scope.]metric op value``; scope: ``overall``, an objective, an attack, or none."""

    scope: str | None
    metric: str
    op: str
    value: float
    text: str


def parse_rules(text: str) -> tuple[Rule, ...]:
    """Parse comma-separated rules such as ``asr>0.05,privacy.asr>0,overall.errors>3``.

    Raises:
        ConfigError: For a rule that does not parse or names an unknown metric.
    """
    rules = []
    for part in filter(None, (p.strip() for p in text.split(","))):
        match = _RULE.match(part)
        if not match or match["metric"] not in _METRICS:
            raise ConfigError(
                f"cannot read --fail-on rule {part!r}: write [scope.]metric>value with a metric "
                f"among {', '.join(_METRICS)}, e.g. 'asr>0.05' or 'privacy.asr>0'"
            )
        rules.append(
            Rule(
                scope=match["scope"],
                metric=match["metric"],
                op=match["op"],
                value=float(match["value"]),
                text=part,
            )
        )
    return tuple(rules)


def _candidates(rule: Rule, summary: Summary) -> list[Rate]:
    if rule.scope is None:
        return list(summary.by.get("attack", ()))
    if rule.scope == "overall":
        return [summary.overall]
    return [
        r
        for axis in ("objective", "attack", "capability", "stage")
        for r in summary.by.get(axis, ())
        if r.key == rule.scope
    ]


def violations(rules: tuple[Rule, ...], summary: Summary) -> list[str]:
    """The rules the summary breaks, each with the group that breaks it."""
    broken = []
    for rule in rules:
        for r in _candidates(rule, summary):
            value = getattr(r, rule.metric)
            if value is not None and _OPS[rule.op](float(value), rule.value):
                broken.append(f"{rule.text}: {r.key} has {rule.metric}={value:.4g}")
    return broken
