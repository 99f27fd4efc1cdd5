"""Paired bootstrap over documents: confidence intervals for every metric, p-values for every pair.

The unit of resampling is the document, and every system is resampled with the same indices
(paired). Resamples are never re-scored: each resample is a vector of document multiplicities ``w``,
and a system's resampled totals are ``w @ counts`` (per-document counts from the scorers), so all
metrics of all systems are resampled with one matrix product per chunk.

Confidence intervals: percentile and BCa (bias-corrected and accelerated, Efron 1987; acceleration
from the leave-one-document-out jackknife). P-values for "A beats B" follow the shifted-null paired
bootstrap of Berg-Kirkpatrick et al. (2012): ``p = (#{b: δ*_b − δ ≥ δ} + 1) / (B + 1)`` where δ is the
observed difference; two-sided: ``#{b: |δ*_b − δ| ≥ |δ|}``. Identical systems get p = 1.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from itertools import combinations

import numpy as np
from scipy.special import ndtr, ndtri

from rexel_bench.scoring.base import macro_prf

Aggregate = Callable[[np.ndarray], dict[str, np.ndarray]]


@dataclass(frozen=True)
class MetricCounts:
    """One metric's per-document counts for several systems: ``counts[s, n, k]``."""

    name: str
    counts: np.ndarray
    aggregate: Aggregate
    headline: str = "f1"


@dataclass
class Interval:
    """A point estimate with its percentile and BCa intervals."""

    value: float
    percentile: tuple[float, float]
    bca: tuple[float, float]

    def to_dict(self) -> dict[str, object]:
        """Machine-readable form."""
        return {"value": self.value, "ci_percentile": list(self.percentile), "ci_bca": list(self.bca)}


@dataclass
class Comparison:
    """Paired test of two systems on one metric's headline value."""

    metric: str
    a: str
    b: str
    delta: float
    p_a_better: float
    p_b_better: float
    p_two_sided: float
    p_randomization: float | None = None
    p_holm: float | None = None
    delta_interval: tuple[float, float] | None = None  # percentile interval of the paired differences (A − B)
    confirmatory: bool = True  # in the family Holm corrects; False: exploratory, p_holm is None (uncorrected)

    def to_dict(self) -> dict[str, object]:
        """Machine-readable form (as ``metrics.json`` holds it: the interval a list)."""
        out = dict(self.__dict__)
        out["delta_interval"] = list(self.delta_interval) if self.delta_interval is not None else None
        return out


@dataclass
class BootstrapResult:
    """Intervals for every (system, metric, value) and tests for every pair of systems per metric."""

    systems: list[str]
    n_resamples: int
    seed: int
    confidence: float
    intervals: dict[str, dict[str, dict[str, Interval]]] = field(default_factory=dict)
    comparisons: list[Comparison] = field(default_factory=list)

    def to_dict(self) -> dict[str, object]:
        """Machine-readable form for metrics.json."""
        return {
            "method": "paired bootstrap over documents", "n_resamples": self.n_resamples, "seed": self.seed,
            "confidence": self.confidence,
            "intervals": {s: {m: {v: i.to_dict() for v, i in vals.items()} for m, vals in ms.items()}
                          for s, ms in self.intervals.items()},
            "comparisons": [c.to_dict() for c in self.comparisons],
        }


def resample_weights(rng: np.random.Generator, n_docs: int, n_resamples: int) -> np.ndarray:
    """``[n_resamples, n_docs]`` multiplicities of each document in each bootstrap resample."""
    draws = rng.integers(0, n_docs, size=(n_resamples, n_docs))
    offsets = (draws + np.arange(n_resamples)[:, None] * n_docs).ravel()
    return np.bincount(offsets, minlength=n_resamples * n_docs).reshape(n_resamples, n_docs).astype(np.float32)


def _values(metric: MetricCounts, totals: np.ndarray) -> dict[str, np.ndarray]:
    return {k: np.asarray(v, dtype=float) for k, v in metric.aggregate(totals).items()}


def bootstrap_values(metrics: Sequence[MetricCounts], n_resamples: int, rng: np.random.Generator,
                     chunk: int = 2000) -> dict[str, dict[str, np.ndarray]]:
    """Resampled values ``[n_resamples, n_systems]`` of every value of every metric."""
    n_systems, n_docs = metrics[0].counts.shape[:2]
    widths = [m.counts.shape[2] for m in metrics]
    stacked = np.concatenate([m.counts.transpose(1, 0, 2).reshape(n_docs, -1) for m in metrics], axis=1)
    stacked = stacked.astype(np.float32)
    out: dict[str, dict[str, list[np.ndarray]]] = {m.name: {} for m in metrics}
    done = 0
    while done < n_resamples:
        size = min(chunk, n_resamples - done)
        totals = resample_weights(rng, n_docs, size) @ stacked  # [size, n_systems * sum(widths)]
        start = 0
        for metric, width in zip(metrics, widths, strict=True):
            block = totals[:, start: start + n_systems * width].reshape(size, n_systems, width).astype(float)
            start += n_systems * width
            for key, values in _values(metric, block).items():
                out[metric.name].setdefault(key, []).append(values)
        done += size
    return {name: {k: np.concatenate(v) for k, v in vals.items()} for name, vals in out.items()}


def jackknife_values(metric: MetricCounts) -> dict[str, np.ndarray]:
    """Leave-one-document-out values ``[n_docs, n_systems]`` (for the BCa acceleration)."""
    totals = metric.counts.sum(axis=1)  # [S, k]
    loo = totals[None, :, :] - metric.counts.transpose(1, 0, 2)  # [N, S, k]
    return _values(metric, loo)


def percentile_interval(samples: np.ndarray, confidence: float) -> tuple[np.ndarray, np.ndarray]:
    """Percentile interval of bootstrap samples along axis 0."""
    alpha = (1 - confidence) / 2
    return np.quantile(samples, alpha, axis=0), np.quantile(samples, 1 - alpha, axis=0)


def bca_interval(samples: np.ndarray, observed: np.ndarray, jackknife: np.ndarray, confidence: float,
                 ) -> tuple[np.ndarray, np.ndarray]:
    """BCa interval along axis 0: bias from the share of samples below the estimate, acceleration
    from the jackknife's skewness. Falls back to the percentile interval where they are undefined."""
    alpha = (1 - confidence) / 2
    below = (samples < observed).mean(axis=0) + 0.5 * (samples == observed).mean(axis=0)
    z0 = ndtri(np.clip(below, 1e-10, 1 - 1e-10))
    diffs = jackknife.mean(axis=0) - jackknife
    den = 6 * np.power((diffs ** 2).sum(axis=0), 1.5)
    accel = np.divide((diffs ** 3).sum(axis=0), den, out=np.zeros_like(den), where=den > 0)
    bounds = []
    for z in (ndtri(alpha), ndtri(1 - alpha)):
        adjusted = ndtr(z0 + (z0 + z) / (1 - accel * (z0 + z)))
        bounds.append(np.array([np.quantile(samples[:, s], q) for s, q in enumerate(np.atleast_1d(adjusted))]))
    return bounds[0], bounds[1]


def shifted_p_values(delta_samples: np.ndarray, delta: float) -> tuple[float, float, float]:
    """(p A better, p B better, two-sided) from bootstrap differences A − B and the observed one."""
    b = len(delta_samples)
    shifted = delta_samples - delta
    eps = 1e-12
    p_a = (np.sum(shifted >= delta - eps) + 1) / (b + 1)
    p_b = (np.sum(shifted <= delta + eps) + 1) / (b + 1)
    p_two = (np.sum(np.abs(shifted) >= abs(delta) - eps) + 1) / (b + 1)
    return float(min(p_a, 1.0)), float(min(p_b, 1.0)), float(min(p_two, 1.0))


def paired_bootstrap(
    metrics: Sequence[MetricCounts],
    systems: Sequence[str],
    *,
    n_resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
    members: Mapping[str, Sequence[int]] | None = None,
) -> BootstrapResult:
    """Intervals for every value of every metric and system, and paired p-values for every pair.

    ``members``: for a system trained with several seeds, the rows of ``counts`` that are its seeds (default:
    system ``s`` is row ``s`` alone). Each resample then also draws each seeded system's seeds with replacement,
    from a generator of its own (so that the documents drawn are those of an unseeded run under the same
    ``seed``), and the system's value is the mean over the drawn seeds: documents and seeds resampled together.
    """
    rows = members or {system: [s] for s, system in enumerate(systems)}
    rng = np.random.default_rng(seed)
    samples = bootstrap_values(metrics, n_resamples, rng)
    seed_rng = np.random.default_rng([seed, 2])
    seed_draws = {system: seed_rng.integers(0, len(rows[system]), size=(n_resamples, len(rows[system])))
                  for system in systems if len(rows[system]) > 1}
    result = BootstrapResult(list(systems), n_resamples, seed, confidence)
    for metric in metrics:
        observed = _by_system(_values(metric, metric.counts.sum(axis=1)), systems, rows)
        jack = _by_system(jackknife_values(metric), systems, rows)
        drawn = _by_system(samples[metric.name], systems, rows, seed_draws)
        for key, draws in drawn.items():
            lo, hi = percentile_interval(draws, confidence)
            bca_lo, bca_hi = bca_interval(draws, observed[key], jack[key], confidence)
            for s, system in enumerate(systems):
                result.intervals.setdefault(system, {}).setdefault(metric.name, {})[key] = Interval(
                    float(observed[key][s]), (float(lo[s]), float(hi[s])), (float(bca_lo[s]), float(bca_hi[s])))
        head = drawn[metric.headline]
        for i, j in combinations(range(len(systems)), 2):
            delta = float(observed[metric.headline][i] - observed[metric.headline][j])
            differences = head[:, i] - head[:, j]
            low, high = percentile_interval(differences, confidence)
            result.comparisons.append(Comparison(metric.name, systems[i], systems[j], delta,
                                                 *shifted_p_values(differences, delta),
                                                 delta_interval=(float(low), float(high))))
    return result


def _by_system(values: Mapping[str, np.ndarray], systems: Sequence[str], rows: Mapping[str, Sequence[int]],
               draws: Mapping[str, np.ndarray] | None = None) -> dict[str, np.ndarray]:
    """Per-row values (last axis: rows of counts) as per-system values: a seeded system's value is the mean over
    its seeds, or over the seeds ``draws`` picked for each resample (first axis)."""
    out = {}
    for key, by_row in values.items():
        columns = []
        for system in systems:
            own = by_row[..., list(rows[system])]
            if draws and system in draws:
                own = np.take_along_axis(own, draws[system], axis=-1)
            columns.append(own.mean(axis=-1))
        out[key] = np.stack(columns, axis=-1)
    return out


def aligned_classes(results: Sequence[object]) -> tuple[list[np.ndarray], Aggregate]:
    """Per-class count matrices of several systems re-indexed on the union of their classes."""
    union = sorted({c for r in results for c in r.classes})  # type: ignore[attr-defined]
    position = {c: i for i, c in enumerate(union)}
    aligned = []
    for r in results:
        n_docs = r.counts.shape[0]  # type: ignore[attr-defined]
        matrix = np.zeros((n_docs, len(union), 4))
        own = r.counts.reshape(n_docs, -1, 4)  # type: ignore[attr-defined]
        for c, label in enumerate(r.classes):  # type: ignore[attr-defined]
            matrix[:, position[label]] = own[:, c]
        aligned.append(matrix.reshape(n_docs, -1))
    return aligned, lambda totals: macro_prf(totals, len(union))


def metric_counts_from_scores(score_results: Mapping[str, object], metric_names: Sequence[str] | None = None,
                              ) -> list[MetricCounts]:
    """Stack the per-document counts of several systems' ScoreResults (same documents, same order).

    Per-class (macro) metrics are re-indexed on the union of the systems' classes.
    """
    systems = list(score_results.values())
    first = systems[0]
    for s in systems[1:]:
        if s.doc_ids != first.doc_ids:  # type: ignore[attr-defined]
            raise ValueError("systems were scored on different documents; paired tests need the same ones")
    names = [n for n in (metric_names or first.metrics) if all(n in s.metrics for s in systems)]  # type: ignore[attr-defined]
    out = []
    for name in names:
        results = [s.metrics[name] for s in systems]  # type: ignore[attr-defined]
        if results[0].classes:
            matrices, aggregate = aligned_classes(results)
        else:
            matrices, aggregate = [r.counts for r in results], results[0].aggregate
        out.append(MetricCounts(name, np.stack(matrices), aggregate, results[0].headline))
    return out
