"""Systems trained with several seeds: one system, several checkpoints (or prediction files), one per seed.

A seeded system's value of a metric is the mean of its seeds' values; the report gives that mean, the seeds'
standard deviation (sample sd; 0 for one seed) and every seed's value, both computed exactly (``statistics``:
identical seeds give the one seed's value and an sd of exactly 0). Its paired tests and
intervals resample documents and seeds together (``stats.bootstrap.paired_bootstrap`` with ``members``): each
resample draws the documents, shared by every system, and each seeded system's seeds with replacement, and the
system's resampled value is the mean over the drawn seeds on the drawn documents — the two-level (nested)
bootstrap over the two sources of variance a benchmark result has (Bouthillier et al., 2021, "Accounting for
variance in machine learning benchmarks"). A system of one seed is resampled over documents alone, as before.
"""

from __future__ import annotations

import statistics
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rexel_bench.data.model import Document
from rexel_bench.scoring.api import MetricResult, ScoreResult
from rexel_bench.scoring.base import class_count_names


@dataclass(frozen=True)
class Seeded:
    """A system's predictions by each of its seeds (``member label → documents``), in the order given."""

    members: dict[str, Sequence[Document]]

    def __post_init__(self) -> None:
        if not self.members:
            raise ValueError("a seeded system needs at least one member")


@dataclass
class SeedMeanMetric(MetricResult):
    """A metric of a seeded system: its values are the mean of the seeds' values (not the value of summed
    counts); ``counts`` are the seeds' mean per-document counts (what buckets and leaderboards resample)."""

    seed_values: list[dict[str, float]] = field(default_factory=list)

    @property
    def values(self) -> dict[str, float]:
        """The mean over seeds of each value (P, R, F1 or accuracy)."""
        return {k: float(statistics.mean(v[k] for v in self.seed_values)) for k in self.seed_values[0]}


def seed_mean(results: Sequence[ScoreResult]) -> ScoreResult:
    """One result for a seeded system: each metric's mean over the seeds, on the documents they share."""
    from rexel_bench.stats.bootstrap import aligned_classes

    first = results[0]
    metrics: dict[str, MetricResult] = {}
    for name, metric in first.metrics.items():
        members = [r.metrics[name] for r in results]
        if metric.classes:
            matrices, aggregate = aligned_classes(members)
            classes = tuple(sorted({c for m in members for c in m.classes}))
        else:
            matrices, aggregate, classes = [m.counts for m in members], metric.aggregate, ()
        metrics[name] = SeedMeanMetric(
            name=name, version=metric.version, description=metric.description, family=metric.family,
            count_names=class_count_names(classes) if classes else metric.count_names,
            counts=np.mean(np.stack(matrices), axis=0), aggregate=aggregate, headline=metric.headline,
            classes=classes, seed_values=[m.values for m in members])
    notes = list(dict.fromkeys(note for r in results for note in r.notes))
    return ScoreResult(first.doc_ids, metrics, notes, first.conventions)


def seed_spread(labels: Sequence[str], results: Sequence[ScoreResult]) -> dict[str, Any]:
    """What a report says about a seeded system's seeds: their labels, and per metric the headline value of
    each seed, their mean and their sample standard deviation."""
    spread: dict[str, Any] = {}
    for name, metric in results[0].metrics.items():
        values = [r.metrics[name].values[metric.headline] for r in results]
        spread[name] = {"values": values, "mean": float(statistics.mean(values)),
                        "sd": float(statistics.stdev(values)) if len(values) > 1 else 0.0}
    return {"members": list(labels), "metrics": spread}
