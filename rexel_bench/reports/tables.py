"""Tables rendered from the typed record of metrics.json (``reports.record.MetricsRecord``): the leaderboard in
Markdown, CSV and LaTeX (booktabs).

Values are percentages. In each column a system is bold only when it is ahead of every other system
significantly (Holm-adjusted two-sided bootstrap p < 0.05); a dagger marks a system whose gap to the best
is significant. A best value whose lead is not significant is not marked: it has not been shown to lead.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Mapping, Sequence
from typing import Any

from rexel_bench.reports.record import MetricsRecord

#: Columns of the headline table, in order, where present.
MAIN_METRICS = ("md", "et", "ed_mention", "ed_entity", "coref_conll", "docred_re", "docred_re_ign", "e2e_hard",
                "e2e_soft", "e2e_linked")
ALPHA = 0.05

#: What a reader calls each metric (reports show these beside the metric ids of metrics.json).
METRIC_NAMES = {
    "md": "Mentions", "md_partial": "Mentions, partial overlap", "et": "Types", "et_fine": "Fine types",
    "ed_mention": "Links of mentions", "ed_entity": "Links of entities", "ed_inkb_accuracy": "In-KB link accuracy",
    "coref_muc": "MUC", "coref_b3": "B³", "coref_ceafm": "CEAFm", "coref_ceafe": "CEAFe", "coref_blanc": "BLANC",
    "coref_lea": "LEA", "coref_conll": "Coreference (CoNLL)", "docred_re": "DocRED relations",
    "docred_re_ign": "DocRED relations, Ign", "docred_evidence": "DocRED evidence", "e2e_hard": "Facts, strict",
    "e2e_hard_typed": "Facts, strict and typed", "e2e_soft": "Facts, soft", "e2e_linked": "Linked facts",
}


def display_name(metric: str) -> str:
    """A metric as a reader knows it, with its id: ``Linked facts (e2e_linked)``; macro averages say so."""
    base, _, kind = metric.partition(".")
    name = METRIC_NAMES.get(base)
    return f"{name}{', ' + kind if kind else ''} ({metric})" if name else metric


def columns(record: MetricsRecord, wanted: Sequence[str] | None = None) -> list[str]:
    """The metrics present in every system of a record, in the order of ``wanted`` (default: the main ones)."""
    systems = list(record.systems.values())
    present = set.intersection(*(set(s.metrics) for s in systems)) if systems else set()
    return [m for m in (wanted or MAIN_METRICS) if m in present]


def headline_value(record: MetricsRecord, system: str, metric: str) -> tuple[float, tuple[float, float] | None]:
    """A system's headline value for a metric and its percentile interval (None if not resampled)."""
    found = record.systems[system].metrics[metric]
    return found.value, found.interval()


def p_holm(record: MetricsRecord, metric: str, a: str, b: str) -> float | None:
    """The Holm-adjusted p-value of the comparison of two systems on a metric."""
    found = record.comparison(metric, a, b)
    return found.p_holm if found else None


def marks(record: MetricsRecord, metric: str) -> dict[str, tuple[bool, bool]]:
    """For each system: (significantly ahead of every other system, gap to the best is significant)."""
    values = {s: headline_value(record, s, metric)[0] for s in record.systems}
    top = max(values.values(), default=None)
    best = [s for s, v in values.items() if v == top]
    behind = {s: s not in best and (p := p_holm(record, metric, best[0], s)) is not None and p < ALPHA
              for s in values}
    leads = len(best) == 1 and len(values) > 1 and all(behind[s] for s in values if s not in best)
    return {s: (leads and s in best, behind[s]) for s in values}


def _cell(record: MetricsRecord, system: str, metric: str, *, with_ci: bool) -> str:
    value, ci = headline_value(record, system, metric)
    text = f"{100 * value:.2f}"
    if with_ci and ci:
        text += f" [{100 * ci[0]:.1f}, {100 * ci[1]:.1f}]"
    return text


def markdown_table(record: MetricsRecord, wanted: Sequence[str] | None = None, with_ci: bool = True,
                   names: bool = False) -> str:
    """The leaderboard as a Markdown table (bold: significantly ahead of every other system; † significant gap
    to the best); ``names`` heads the columns with :func:`display_name` instead of the metric ids."""
    cols = columns(record, wanted)
    heads = [display_name(c) for c in cols] if names else cols
    lines = ["| system | linking | " + " | ".join(heads) + " |", "|---|---|" + "---:|" * len(cols)]
    flags = {m: marks(record, m) for m in cols}
    for system, entry in record.systems.items():
        cells = []
        for m in cols:
            best, significant = flags[m][system]
            text = _cell(record, system, m, with_ci=with_ci)
            cells.append((f"**{text}**" if best else text) + (" †" if significant else ""))
        linking = (entry.linking_label or "unknown") + ("; transductive training KB" if entry.transductive else "")
        lines.append(f"| {system} | {linking} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def _bounds(ci: Mapping[str, Any], key: str) -> list[str]:
    return [f"{x:.6f}" for x in ci[key]] if key in ci else ["", ""]


def csv_table(record: MetricsRecord) -> str:
    """Every metric of every system: value, percentile and BCa bounds, one row per (system, metric, value)."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow(["system", "metric", "value_name", "value", "ci_low", "ci_high", "bca_low", "bca_high",
                     "metric_version", "dataset_sha256"])
    for system, entry in record.systems.items():
        for metric, m in entry.metrics.items():
            for key, value in m.values.items():
                ci = m.ci.get(key, {})
                writer.writerow([system, metric, key, f"{value:.6f}", *_bounds(ci, "ci_percentile"),
                                 *_bounds(ci, "ci_bca"), record.metric_versions.get(metric, ""),
                                 record.dataset.get("sha256") or ""])
    return out.getvalue()


def _latex_escape(text: str) -> str:
    return text.replace("\\", r"\textbackslash{}").replace("_", r"\_").replace("%", r"\%").replace("&", r"\&")


def latex_table(record: MetricsRecord, wanted: Sequence[str] | None = None) -> str:
    """The leaderboard as a booktabs LaTeX table (needs ``\\usepackage{booktabs}``)."""
    cols = columns(record, wanted)
    flags = {m: marks(record, m) for m in cols}
    lines = [r"\begin{tabular}{l" + "r" * len(cols) + "}", r"\toprule",
             "System & " + " & ".join(_latex_escape(c) for c in cols) + r" \\", r"\midrule"]
    for system in record.systems:
        cells = []
        for m in cols:
            best, significant = flags[m][system]
            text = _cell(record, system, m, with_ci=False)
            cells.append((rf"\textbf{{{text}}}" if best else text) + (r"$^\dagger$" if significant else ""))
        lines.append(_latex_escape(system) + " & " + " & ".join(cells) + r" \\")
    lines += [r"\bottomrule", r"\end{tabular}",
              r"% bold: ahead of every other system, $^\dagger$: gap to the best; both significant (Holm-adjusted "
              r"paired bootstrap p < 0.05)"]
    return "\n".join(lines) + "\n"
