"""Compare several systems scored on the same documents: intervals, paired tests, correction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence

import numpy as np

from rexel_bench.stats.bootstrap import BootstrapResult, metric_counts_from_scores, paired_bootstrap
from rexel_bench.stats.correction import holm
from rexel_bench.stats.randomization import randomization_p_value


def compare_systems(
    score_results: Mapping[str, object],
    *,
    n_resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
    randomization_rounds: int = 0,
    metrics: Sequence[str] | None = None,
) -> BootstrapResult:
    """Paired bootstrap intervals and p-values for every metric and pair of systems.

    With ``randomization_rounds`` > 0, each comparison also gets an approximate-randomization
    p-value. Holm–Bonferroni adjusts the two-sided bootstrap p-values over all comparisons (every
    pair on every metric). Everything is deterministic under ``seed``.
    """
    systems = list(score_results)
    counts = metric_counts_from_scores(score_results, metrics)
    result = paired_bootstrap(counts, systems, n_resamples=n_resamples, seed=seed, confidence=confidence)
    if randomization_rounds:
        rng = np.random.default_rng([seed, 1])
        by_name = {c.name: c for c in counts}
        for comparison in result.comparisons:
            comparison.p_randomization = randomization_p_value(
                by_name[comparison.metric], systems.index(comparison.a), systems.index(comparison.b),
                n_rounds=randomization_rounds, rng=rng)
    for comparison, adjusted in zip(result.comparisons, holm([c.p_two_sided for c in result.comparisons]),
                                    strict=True):
        comparison.p_holm = adjusted
    return result
