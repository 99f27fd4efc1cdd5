"""Approximate randomization (paired permutation) test, a second opinion beside the bootstrap.

For each of R rounds, every document's counts are swapped between the two systems with probability
1/2; the p-value is the share of rounds whose absolute difference reaches the observed one,
``(#{r: |δ_r| ≥ |δ|} + 1) / (R + 1)`` (Noreen 1989; Riezler & Maxwell 2005).
"""

from __future__ import annotations

import numpy as np

from rexel_bench.stats.bootstrap import MetricCounts


def randomization_p_value(metric: MetricCounts, a: int, b: int, *, n_rounds: int = 10_000,
                          rng: np.random.Generator, chunk: int = 2000) -> float:
    """Two-sided p-value that systems ``a`` and ``b`` differ on the metric's headline value."""
    counts_a, counts_b = metric.counts[a].astype(float), metric.counts[b].astype(float)
    head = metric.headline

    def value(totals: np.ndarray) -> np.ndarray:
        return np.asarray(metric.aggregate(totals)[head], dtype=float)

    observed = abs(float(value(counts_a.sum(0)) - value(counts_b.sum(0))))
    total_a, total_b = counts_a.sum(0), counts_b.sum(0)
    diff = counts_b - counts_a  # what a document moves when it is swapped
    hits, done = 0, 0
    while done < n_rounds:
        size = min(chunk, n_rounds - done)
        swap = rng.random((size, counts_a.shape[0])) < 0.5
        moved = swap.astype(float) @ diff
        deltas = np.abs(value(total_a + moved) - value(total_b - moved))
        hits += int(np.sum(deltas >= observed - 1e-12))
        done += size
    return (hits + 1) / (n_rounds + 1)
