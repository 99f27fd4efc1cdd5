"""Who won: each system against the reference system on the headline metrics, read from the typed record of
``metrics.json`` (``reports.record.MetricsRecord``).

A verdict says whether a system is significantly ahead of the reference, behind it, or level with it (the
Holm-adjusted two-sided paired-bootstrap p is at least 0.05), with the difference and its 95% interval. The
console (``compare``, ``run``) and the report print the same rows and sentences.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

from rexel_bench.reports.record import MetricsRecord
from rexel_bench.reports.tables import ALPHA
from rexel_bench.stats.compare import FAMILY_METRICS


@dataclass(frozen=True)
class Verdict:
    """One system against the reference on one metric (values in [0, 1])."""

    system: str
    reference: str
    metric: str
    value: float
    reference_value: float
    delta: float  # system − reference
    interval: tuple[float, float] | None
    p_holm: float | None

    @property
    def outcome(self) -> str:
        """``ahead``, ``behind`` or ``level`` (not significant at Holm-adjusted p < 0.05)."""
        if self.p_holm is None or self.p_holm >= ALPHA or self.delta == 0:
            return "level"
        return "ahead" if self.delta > 0 else "behind"

    @property
    def interval_text(self) -> str:
        """The difference's interval in signed points of F1, ``[-5.26, -2.69]`` (``–`` when not resampled)."""
        return f"[{points(self.interval[0])}, {points(self.interval[1])}]" if self.interval else "–"


def headline_metrics(record: MetricsRecord) -> list[str]:
    """The headline metrics every system of the record was scored on."""
    systems = list(record.systems.values())
    present = set.intersection(*(set(s.metrics) for s in systems)) if systems else set()
    return [m for m in FAMILY_METRICS if m in present]


def verdicts(record: MetricsRecord) -> list[Verdict]:
    """Every other system against the record's reference system on every headline metric (the pre-stated family
    of ``metrics.json``; the first system where a record states none)."""
    systems = list(record.systems)
    reference = record.family.reference if record.family else (systems[0] if systems else None)
    metrics = [m for m in record.family.metrics if m in headline_metrics(record)] if record.family \
        else headline_metrics(record)
    return [_verdict(record, system, reference, metric) for metric in metrics for system in systems
            if system != reference]


def _verdict(record: MetricsRecord, system: str, reference: str, metric: str) -> Verdict:
    mine, theirs = record.systems[system].metrics[metric].value, record.systems[reference].metrics[metric].value
    found = record.comparison(metric, system, reference)
    interval = found.delta_interval if found else None
    if found and interval and found.a == reference:  # recorded as reference − system: turn it round
        interval = (-interval[1], -interval[0])
    return Verdict(system, reference, metric, mine, theirs, mine - theirs, interval, found.p_holm if found else None)


def resolution_note(record: MetricsRecord) -> str | None:
    """A warning when no difference can be significant: with B resamples the smallest two-sided bootstrap p is
    1 / (B + 1), and Holm multiplies the smallest by the number of comparisons corrected together."""
    resamples = record.n_resamples
    family = record.family.comparisons if record.family else len(record.comparisons)
    if not resamples or not family:
        return None
    smallest = min(1.0, family / (resamples + 1))
    if smallest < ALPHA:
        return None
    needed = math.ceil(family / ALPHA)
    return (f"with {resamples:,} resamples and {family} comparisons corrected together, the smallest attainable "
            f"Holm-adjusted p is {smallest:.3f}: no difference can be significant at p < {ALPHA}; use --bootstrap "
            f"{needed:,} or more")


def points(value: float) -> str:
    """A difference in points of F1, signed, with no negative zero."""
    return f"{round(100 * value, 2) + 0.0:+.2f}"


def sentences(found: Sequence[Verdict]) -> list[str]:
    """One sentence per system: where it is significantly ahead of the reference, behind it, or level."""
    out = []
    for system in dict.fromkeys(v.system for v in found):
        mine = [v for v in found if v.system == system]
        parts = []
        for outcome, words in (("ahead", "significantly ahead on"), ("behind", "significantly behind on"),
                               ("level", "level (no significant difference) on")):
            metrics = [v.metric for v in mine if v.outcome == outcome]
            if metrics:
                parts.append(f"{words} {', '.join(metrics)}")
        out.append(f"{system} against {mine[0].reference}: {'; '.join(parts)} (Holm-adjusted paired bootstrap, "
                   f"p < {ALPHA}).")
    return out


def verdict_markdown(found: Sequence[Verdict]) -> str:
    """The verdicts as a Markdown table (values and differences in points of F1)."""
    lines = ["| system | metric | value | reference | Δ | 95% interval of Δ | p Holm | verdict |",
             "|---|---|---:|---:|---:|---|---:|---|"]
    for v in found:
        p = "–" if v.p_holm is None else f"{v.p_holm:.4f}"
        lines.append(f"| {v.system} | {v.metric} | {100 * v.value:.2f} | {100 * v.reference_value:.2f} | "
                     f"{points(v.delta)} | {v.interval_text} | {p} | {v.outcome} |")
    return "\n".join(lines)
