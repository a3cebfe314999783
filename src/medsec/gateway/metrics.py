"""Prometheus metrics in the text exposition format (0.0.4), without a client library.

Counters and histograms with fixed label names; :meth:`Metrics.render` writes what ``/metrics`` serves.
Labels are status codes, outcomes, channels and scanner names — never request text.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from dataclasses import dataclass, field

LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0)

Labels = tuple[tuple[str, str], ...]


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    body = ",".join(f'{k}="{_escape(v)}"' for k, v in labels)
    return "{" + body + "}"


def _escape(value: str) -> str:
    return value.replace("\\", "\\\\").replace("\n", "\\n").replace('"', '\\"')


@dataclass
class Counter:
    """A monotonically increasing count per label set."""

    name: str
    help: str
    values: dict[Labels, float] = field(default_factory=lambda: defaultdict(float))

    def inc(self, amount: float = 1.0, **labels: str) -> None:
        """Add ``amount`` to the series named by ``labels``."""
        self.values[tuple(sorted(labels.items()))] += amount

    def render(self) -> list[str]:
        """The exposition lines of this counter."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} counter"]
        lines += [f"{self.name}{_labels(k)} {v:g}" for k, v in sorted(self.values.items())]
        return lines


@dataclass
class Histogram:
    """Observations counted into cumulative buckets, per label set."""

    name: str
    help: str
    buckets: tuple[float, ...] = LATENCY_BUCKETS
    counts: dict[Labels, list[int]] = field(default_factory=dict)
    sums: dict[Labels, float] = field(default_factory=lambda: defaultdict(float))

    def observe(self, value: float, **labels: str) -> None:
        """Count one observation."""
        key = tuple(sorted(labels.items()))
        counts = self.counts.setdefault(key, [0] * (len(self.buckets) + 1))
        counts[bisect_left(self.buckets, value)] += 1
        self.sums[key] += value

    def render(self) -> list[str]:
        """The exposition lines of this histogram (cumulative buckets, ``+Inf``, sum and count)."""
        lines = [f"# HELP {self.name} {self.help}", f"# TYPE {self.name} histogram"]
        for key, counts in sorted(self.counts.items()):
            running = 0
            for bound, n in zip((*self.buckets, float("inf")), counts, strict=True):
                running += n
                le = "+Inf" if bound == float("inf") else f"{bound:g}"
                lines.append(f"{self.name}_bucket{_labels((*key, ('le', le)))} {running}")
            lines.append(f"{self.name}_sum{_labels(key)} {self.sums[key]:.6f}")
            lines.append(f"{self.name}_count{_labels(key)} {running}")
        return lines


@dataclass
class Metrics:
    """The gateway's metrics."""

    requests: Counter = field(
        default_factory=lambda: Counter("medsec_gateway_requests_total", "Requests by status and outcome.")
    )
    blocks: Counter = field(
        default_factory=lambda: Counter(
            "medsec_gateway_blocks_total", "Blocked texts by channel and the scanner that blocked."
        )
    )
    findings: Counter = field(
        default_factory=lambda: Counter("medsec_gateway_findings_total", "Guard findings by scanner.")
    )
    latency: Histogram = field(
        default_factory=lambda: Histogram(
            "medsec_gateway_request_seconds", "Seconds from request to last byte, by route."
        )
    )
    upstream: Histogram = field(
        default_factory=lambda: Histogram("medsec_gateway_upstream_seconds", "Seconds the upstream took.")
    )
    guard: Histogram = field(
        default_factory=lambda: Histogram(
            "medsec_gateway_guard_seconds", "Seconds the guard pipeline took per request."
        )
    )

    def render(self) -> str:
        """Everything, in the Prometheus text format."""
        parts: list[Counter | Histogram] = [
            self.requests,
            self.blocks,
            self.findings,
            self.latency,
            self.upstream,
            self.guard,
        ]
        return "\n".join(line for p in parts for line in p.render()) + "\n"
