"""Report plots with matplotlib (PNG and SVG), drawn from metrics.json only.

- ``scores``: headline value with its 95% interval per system and subtask;
- ``speed``: end-to-end F1 against documents per second, when the run measured speed;
- ``by_tokens`` / ``by_entities``: end-to-end F1 by document length and by number of entities, with
  intervals, one line per system (buckets hold enough documents, see :mod:`rexel_bench.stats.buckets`);
- ``relations``: per-relation F1 heatmap for the most frequent gold relations.
"""

from __future__ import annotations

import textwrap
import warnings
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np
from matplotlib import ticker

from rexel_bench.reports.record import MetricsRecord
from rexel_bench.reports.tables import columns, headline_value


def _save(fig: plt.Figure, out_dir: Path, name: str) -> Path:
    """Save the figure as PNG and SVG, laid out to fit; where long labels (systems named by checkpoint paths)
    leave the axes no room, the saved figure is cropped to its contents instead of matplotlib's warning."""
    out_dir.mkdir(parents=True, exist_ok=True)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        fig.tight_layout()
    cropped = False
    for caught_warning in caught:
        if "Tight layout not applied" in str(caught_warning.message):
            cropped = True
        else:  # any other warning is shown as it would have been
            warnings.warn_explicit(caught_warning.message, caught_warning.category, caught_warning.filename,
                                   caught_warning.lineno)
    for suffix in ("png", "svg"):
        fig.savefig(out_dir / f"{name}.{suffix}", dpi=120, bbox_inches="tight" if cropped else None)
    plt.close(fig)
    return out_dir / f"{name}.png"


def plot_scores(record: MetricsRecord, out_dir: Path) -> Path | None:
    """Headline value and 95% interval of every system on every main subtask."""
    cols, systems = columns(record), list(record.systems)
    if not cols:
        return None
    fig, ax = plt.subplots(figsize=(max(6, 1.3 * len(cols)), 3.8))
    width = 0.8 / len(systems)
    for i, system in enumerate(systems):
        values, lows, highs = [], [], []
        for m in cols:
            value, ci = headline_value(record, system, m)
            values.append(100 * value)
            lows.append(100 * (value - ci[0]) if ci else 0)
            highs.append(100 * (ci[1] - value) if ci else 0)
        x = np.arange(len(cols)) + (i - (len(systems) - 1) / 2) * width
        ax.bar(x, values, width, label=system, yerr=[lows, highs], capsize=3)
    ax.set_xticks(np.arange(len(cols)), cols, rotation=30, ha="right")
    ax.set_ylabel("score (%) with 95% CI")
    ax.set_ylim(0, 100)
    ax.legend(fontsize=8)
    ax.set_title(f"Scores on {record.dataset['name']} ({record.dataset['documents']} documents)")
    return _save(fig, out_dir, "scores")


def plot_speed(record: MetricsRecord, out_dir: Path) -> Path | None:
    """Headline end-to-end F1 against documents per second, one point per system with its interval."""
    metric = record.data.get("headline_metric")
    points = [(s, e.entry["speed"]["docs_per_s"]) for s, e in record.systems.items()
              if e.entry.get("speed", {}).get("docs_per_s")]
    if not metric or not points:
        return None
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for system, speed in points:
        value, ci = headline_value(record, system, metric)
        err = [[100 * (value - ci[0])], [100 * (ci[1] - value)]] if ci else None
        ax.errorbar([speed], [100 * value], yerr=err, fmt="o", capsize=4, label=system)
        ax.annotate(system, (speed, 100 * value), textcoords="offset points", xytext=(5, 5), fontsize=8)
    ax.set_xscale("log")
    plain = ticker.FuncFormatter(lambda value, _: f"{value:g}")  # 2, 20, 200 — not 2×10⁰
    ax.xaxis.set_major_formatter(plain)
    ax.xaxis.set_minor_formatter(ticker.NullFormatter())
    ax.set_xlabel("documents per second (log scale)")
    ax.set_ylabel(f"{metric} F1 (%)")
    ax.set_title("Quality against speed")
    return _save(fig, out_dir, "speed")


def plot_buckets(run: Mapping[str, Any], out_dir: Path, kind: str) -> Path | None:
    """Headline F1 by document size bucket (``kind``: tokens or entities), with intervals."""
    buckets = (run.get("buckets") or {}).get(kind)
    if not buckets:
        return None
    labels = [f"{b['range'][0]}–{b['range'][1]}\n(n={b['documents']})" for b in buckets]
    fig, ax = plt.subplots(figsize=(6, 3.8))
    x = np.arange(len(buckets))
    for system in run["systems"]:
        values = np.array([100 * b["systems"][system]["value"] for b in buckets])
        lows = np.array([100 * b["systems"][system]["ci"][0] for b in buckets])
        highs = np.array([100 * b["systems"][system]["ci"][1] for b in buckets])
        ax.plot(x, values, marker="o", label=system)
        ax.fill_between(x, lows, highs, alpha=0.2)
    ax.set_xticks(x, labels, fontsize=8)
    ax.set_xlabel(f"{kind} per document")
    ax.set_ylabel(f"{run['buckets']['metric']} F1 (%)")
    ax.legend(fontsize=8)
    ax.set_title(f"End-to-end F1 by number of {kind}")
    return _save(fig, out_dir, f"by_{kind}")


def plot_relations(run: Mapping[str, Any], out_dir: Path) -> Path | None:
    """Per-relation F1 heatmap (systems × most frequent relations)."""
    table = run.get("per_relation")
    if not table or not table["relations"]:
        return None
    systems = list(table["f1"])
    grid = np.array([[100 * v for v in table["f1"][s]] for s in systems])
    fig, ax = plt.subplots(figsize=(max(6, 0.55 * len(table["relations"])), 1.2 + 0.5 * len(systems)))
    image = ax.imshow(grid, vmin=0, vmax=100, cmap="viridis", aspect="auto")
    names = table.get("names") or table["relations"]  # reports written before names were recorded
    ax.set_xticks(range(len(names)), [f"{textwrap.fill(r, 14)}\n({n})" for r, n in
                                      zip(names, table["gold_counts"], strict=True)], fontsize=7)
    ax.set_yticks(range(len(systems)), systems, fontsize=8)
    for (i, j), value in np.ndenumerate(grid):
        ax.text(j, i, f"{value:.0f}", ha="center", va="center", fontsize=7, color="white" if value < 60 else "black")
    fig.colorbar(image, ax=ax, label="F1 (%)")
    ax.set_title(f"{table['metric']} F1 per relation (gold count below)")
    return _save(fig, out_dir, "relations")


def draw_all(record: MetricsRecord, out_dir: Path) -> dict[str, Path]:
    """Every plot the record's data allows, by name."""
    run = record.data
    drawn = {"scores": plot_scores(record, out_dir), "speed": plot_speed(record, out_dir),
             "by_tokens": plot_buckets(run, out_dir, "tokens"), "by_entities": plot_buckets(run, out_dir, "entities"),
             "relations": plot_relations(run, out_dir)}
    return {k: v for k, v in drawn.items() if v is not None}
