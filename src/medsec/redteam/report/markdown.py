"""The markdown report (also what the CLI prints as its end-of-scan summary)."""

from __future__ import annotations

from medsec.redteam.report.summary import Rate, Summary


def pct(value: float | None) -> str:
    """A rate as a percentage, or a dash when nothing was judged."""
    return "-" if value is None else f"{100 * value:.1f}%"


def interval(r: Rate) -> str:
    """The 95% interval of a rate as text."""
    return "-" if r.ci_low is None or r.ci_high is None else f"{pct(r.ci_low)}–{pct(r.ci_high)}"


def rows(rates: tuple[Rate, ...]) -> list[list[str]]:
    """Table rows: key, attempts, successes, fails, errors, unjudged, ASR, 95% CI."""
    return [
        [
            r.key,
            str(r.attempts),
            str(r.successes),
            str(r.fails),
            str(r.errors),
            str(r.unjudged),
            pct(r.asr),
            interval(r),
        ]
        for r in rates
    ]


HEADERS = ["", "attempts", "successes", "fails", "errors", "unjudged", "ASR", "95% CI"]


def _table(title: str, rates: tuple[Rate, ...]) -> list[str]:
    head = [title, *HEADERS[1:]]
    out = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    out += ["| " + " | ".join(row) + " |" for row in rows(rates)]
    return [*out, ""]


def render_markdown(summary: Summary) -> str:
    """The whole report as markdown."""
    run = summary.run
    o = summary.overall
    out = [
        f"# medsec scan {run.id}",
        "",
        f"- Target: `{run.target.get('name')}` {run.target.get('args') or ''}",
        f"- Started {run.created_at}, status {run.status}; medsec {run.versions.get('medsec', '?')}, "
        f"seed {run.seed}",
        f"- Overall: {o.successes} successful attacks in {o.judged} judged attempts "
        f"(ASR {pct(o.asr)}, 95% CI {interval(o)}); {o.errors} target errors, {o.unjudged} unjudged",
        "",
    ]
    skipped = run.settings.get("skipped")
    if isinstance(skipped, dict) and skipped:
        out += ["Skipped probes:", "", *[f"- `{name}`: {reason}" for name, reason in skipped.items()], ""]
    for axis in ("objective", "attack", "capability", "stage"):
        if summary.by.get(axis):
            out += [f"## By {axis}", "", *_table(axis, summary.by[axis])]
    if summary.examples:
        out += ["## Example successful attacks", ""]
        for ex in summary.examples:
            out += [
                f"### `{ex.key}` ({ex.attack})",
                "",
                "Prompt:",
                "",
                "```text",
                ex.prompt,
                "```",
                "",
                "Answer:",
                "",
                "```text",
                ex.answer[:1500],
                "```",
                "",
            ]
    return "\n".join(out).rstrip() + "\n"
