"""The efficacy report as tables (shared by markdown and HTML), markdown and JSON."""

from __future__ import annotations

from medsec.efficacy.assess import Cell, EfficacyResult, LayerResult
from medsec.efficacy.stats import Difference, Proportion
from medsec.redteam.report.markdown import interval, pct
from medsec.redteam.report.summary import Rate

METHOD = (
    "Each rate carries a Wilson 95% interval. Each change (reduction in attack success = undefended ASR "
    "minus defended ASR; accuracy change = defended minus undefended) carries Newcombe's hybrid-score 95% "
    "interval of a difference of two independent proportions (method 10, built from the two Wilson "
    "intervals); a change is marked * when that interval excludes 0. Latency is end to end per request "
    "on the benign questions (median and p95, seconds), measured around the guard and the application."
)
Table = tuple[list[str], list[list[str]]]


def points(d: Difference | None) -> str:
    """A difference in percentage points with its interval: ``+42.0 pts [12.3, 66.0]*``."""
    if d is None or d.value is None or d.ci_low is None or d.ci_high is None:
        return "-"
    mark = "*" if d.significant else ""
    return f"{100 * d.value:+.1f} pts [{100 * d.ci_low:+.1f}, {100 * d.ci_high:+.1f}]{mark}"


def share(p: Proportion | None) -> str:
    """A proportion as ``12.5% (2/16, 95% CI 3.5–36.0%)``."""
    if p is None or p.rate is None or p.ci_low is None or p.ci_high is None:
        return "-"
    return f"{pct(p.rate)} ({p.hits}/{p.total}, {pct(p.ci_low)}–{pct(p.ci_high)})"


def asr(r: Rate) -> str:
    """An attack success rate as ``25.0% (2/8, 7.1–59.1%)``."""
    return "-" if r.asr is None else f"{pct(r.asr)} ({r.successes}/{r.judged}, {interval(r)})"


def seconds(value: float | None, added: float | None = None) -> str:
    """Seconds, with what was added against the baseline."""
    if value is None:
        return "-"
    return f"{value:.2f}" + (f" ({added:+.2f})" if added is not None else "")


def overview(result: EfficacyResult) -> Table:
    """One row per configuration: what it buys and what it costs."""
    headers = [
        "configuration",
        "defenses",
        "attack success",
        "reduction",
        "false refusals",
        "accuracy",
        "accuracy change",
        "median s",
        "p95 s",
    ]
    rows = [
        [
            r.layer.name,
            ", ".join(r.layer.defends) or "none",
            asr(r.asr),
            points(r.reduction),
            share(r.false_refusals),
            share(r.accuracy),
            points(r.accuracy_change),
            seconds(r.latency.median_s, r.latency.added_median_s),
            seconds(r.latency.p95_s, r.latency.added_p95_s),
        ]
        for r in result.layers
    ]
    return headers, rows


def cell_text(cell: Cell | None) -> str:
    """A matrix cell: the ASR, then the reduction with its interval."""
    if cell is None or cell.rate.asr is None:
        return "·"
    reduction = points(cell.reduction)
    return f"{pct(cell.rate.asr)} ({cell.rate.successes}/{cell.rate.judged})" + (
        f"; {reduction}" if reduction != "-" else ""
    )


def matrix(result: EfficacyResult) -> Table:
    """Attacks × configurations: ASR under each, and its reduction against the baseline."""
    cells = {(c.attack, c.layer): c for c in result.matrix}
    names = [r.layer.name for r in result.layers]
    rows = [[a, *(cell_text(cells.get((a, n))) for n in names)] for a in result.attacks]
    return ["attack", *names], rows


def utility(result: EfficacyResult) -> Table:
    """Per configuration and benign set: false refusals, blocks, accuracy and its change."""
    headers = ["configuration", "set", "false refusals", "blocked", "accuracy", "accuracy change", "errors"]
    rows = [
        [r.layer.name, s.source, share(s.false_refusals), str(s.blocked), share(s.accuracy)]
        + [points(s.accuracy_change), str(s.errors)]
        for r in result.layers
        for s in r.by_set
    ]
    return headers, rows


def blockers(result: EfficacyResult) -> Table:
    """Which scanners blocked benign questions, per configuration."""
    rows = [
        [r.layer.name, ", ".join(f"{k} ({v})" for k, v in sorted(r.blocked_by.items()))]
        for r in result.layers
        if r.blocked_by
    ]
    return ["configuration", "benign questions blocked by"], rows


def open_attacks(result: EfficacyResult) -> Table:
    """Attacks that remain unmitigated."""
    rows = [
        [u.attack, u.name, f"{u.successes}/{u.judged}", u.best, ", ".join(u.defenses)]
        for u in result.unmitigated
    ]
    return ["attack", "name", "successes (best config)", "best config", "taxonomy defenses"], rows


def runs(result: EfficacyResult) -> Table:
    """The stored runs behind each configuration (for ``medsec report RUN``)."""
    rows = [[r.layer.name, r.attack_run, r.benign_run or "-", r.layer.policy or "-"] for r in result.layers]
    return ["configuration", "attack run", "benign run", "policy file"], rows


def _md_table(table: Table) -> list[str]:
    headers, rows = table
    out = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
    return [*out, *("| " + " | ".join(c.replace("|", "\\|") for c in row) + " |" for row in rows), ""]


def render_markdown(result: EfficacyResult, title: str = "medsec defense efficacy") -> str:
    """The whole report as markdown."""
    out = [f"# {title}", "", f"Assessed {result.created_at}; baseline: {result.baseline or 'none'}.", ""]
    out += [f"> {n}" for n in result.notes] + ([""] if result.notes else [])
    sections = [
        ("What each configuration buys and costs", overview(result)),
        ("Attack success by attack and configuration", matrix(result)),
        ("Utility by benign set", utility(result)),
        ("False refusals by blocking scanner", blockers(result)),
        ("Attacks that remain unmitigated", open_attacks(result)),
        ("Stored runs", runs(result)),
    ]
    for heading, table in sections:
        out += [f"## {heading}", ""]
        out += _md_table(table) if table[1] else ["None.", ""]
    return "\n".join([*out, "## Method", "", METHOD, ""])


def render_json(result: EfficacyResult) -> str:
    """The result as JSON (schema 1)."""
    return result.model_dump_json(indent=2) + "\n"


def best_layer(result: EfficacyResult) -> LayerResult | None:
    """The single layer with the largest significant reduction, if any."""
    singles = [r for r in result.layers if r.layer.kind == "layer" and r.reduction.significant]
    return max(singles, key=lambda r: r.reduction.value or 0.0, default=None)
