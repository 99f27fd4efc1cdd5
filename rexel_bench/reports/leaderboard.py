"""Merge report directories into one leaderboard, refusing runs that are not comparable.

Runs are comparable when they were scored on the same data (same SHA-256 and documents) with the
same metric version. Because every run keeps its per-document counts, the merged leaderboard
re-runs the paired bootstrap across runs, so significance marks stay honest.
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

from rexel_bench.errors import ConfigError
from rexel_bench.reports.record import MetricsRecord
from rexel_bench.scoring.api import aggregate_for
from rexel_bench.stats.bootstrap import MetricCounts, paired_bootstrap
from rexel_bench.stats.correction import holm


def check_comparable(runs: Sequence[tuple[str, MetricsRecord]], metric: str) -> None:
    """Refuse to rank runs scored on different data, with different metric versions or linking settings."""
    first_name, first = runs[0]
    for name, run in runs[1:]:
        for key in ("sha256", "documents"):
            if run.dataset.get(key) != first.dataset.get(key):
                raise ConfigError(f"runs were scored on different data ({key}: {first.dataset.get(key)} in "
                                  f"{first_name}, {run.dataset.get(key)} in {name}); refusing to rank them together")
        if run.metric_versions.get(metric) != first.metric_versions.get(metric):
            raise ConfigError(f"metric {metric} has version {first.metric_versions.get(metric)} in {first_name} "
                              f"but {run.metric_versions.get(metric)} in {name}; refusing to rank them together")
        if _doc_ids(run, name) != _doc_ids(first, first_name):
            raise ConfigError(f"runs {first_name} and {name} list their documents differently")
    settings = {f"{system} ({name})": entry.linking_label or "unknown"
                for name, run in runs for system, entry in run.systems.items()}
    if len(runs) > 1 and len(set(settings.values())) > 1:
        listed = ", ".join(f"{system}: {label}" for system, label in settings.items())
        raise ConfigError(f"the systems were linked in different settings ({listed}); refusing to rank them "
                          "together (a KB holding the evaluated documents' annotations is an upper bound)")


def _doc_ids(run: MetricsRecord, name: str) -> list[str]:
    if not run.per_document or not run.per_document.get("counts"):
        raise ConfigError(f"{name} keeps no per-document counts (a `score --json` record?): it cannot be resampled "
                          "with other runs; use the metrics.json of `rexel-bench run` or `compare`")
    return run.per_document["doc_ids"]


def merge_runs(run_dirs: Sequence[str | Path], metric: str, *, n_resamples: int = 10_000, seed: int = 0,
               ) -> dict[str, Any]:
    """One run-shaped dict holding every system of every run on ``metric``, with fresh paired tests."""
    runs = [(str(d), MetricsRecord.read(d)) for d in run_dirs]
    missing = [name for name, run in runs if not any(metric in s.metrics for s in run.systems.values())]
    if missing:
        raise ConfigError(f"metric {metric!r} is not in {', '.join(missing)}")
    check_comparable(runs, metric)
    systems: dict[str, Any] = {}
    counts: list[list[list[float]]] = []
    for name, run in runs:
        for system, entry in run.systems.items():
            label = system if system not in systems else f"{system} ({Path(name).name})"
            systems[label] = {**entry.entry, "metrics": {metric: dict(entry.entry["metrics"][metric])}, "run": name}
            counts.append(run.per_document["counts"][system][metric])  # type: ignore[index]
    aggregate, headline = aggregate_for(metric)
    stats = paired_bootstrap([MetricCounts(metric, np.array(counts, dtype=float), aggregate, headline)],
                             list(systems), n_resamples=n_resamples, seed=seed)
    for label in systems:
        systems[label]["metrics"][metric]["ci"] = {k: i.to_dict() for k, i in stats.intervals[label][metric].items()}
    comparisons = [c.to_dict() for c in stats.comparisons]
    for c, adjusted in zip(comparisons, holm([c["p_two_sided"] for c in comparisons]), strict=True):
        c["p_holm"] = adjusted
    first = runs[0][1].data
    return {**first, "kind": "leaderboard", "systems": systems, "comparisons": comparisons, "headline_metric": metric,
            "runs": [name for name, _ in runs], "buckets": {}, "per_relation": None,
            "bootstrap": {**first["bootstrap"], "n_resamples": n_resamples, "seed": seed}}
