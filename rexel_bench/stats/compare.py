"""Compare several systems scored on the same documents: intervals, paired tests, correction."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import numpy as np

from rexel_bench.errors import ConfigError
from rexel_bench.stats.bootstrap import BootstrapResult, metric_counts_from_scores, paired_bootstrap
from rexel_bench.stats.correction import holm
from rexel_bench.stats.randomization import randomization_p_value

#: The metrics of the pre-stated family, where a run scores them: the claims a comparison is made for.
FAMILY_METRICS = ("e2e_linked", "e2e_hard", "e2e_soft", "docred_re", "coref_conll", "ed_entity", "md")


@dataclass(frozen=True)
class Family:
    """The comparisons Holm corrects together, stated before any is computed: each system against the reference
    on the headline metrics. Every other comparison is exploratory (reported uncorrected, and labelled so)."""

    reference: str
    metrics: tuple[str, ...]

    def holds(self, metric: str, a: str, b: str) -> bool:
        """Whether the comparison of ``a`` and ``b`` on ``metric`` is in the family."""
        return metric in self.metrics and self.reference in (a, b)

    def to_dict(self, size: int) -> dict[str, object]:
        """What ``metrics.json`` states about the family (``size``: its number of comparisons)."""
        return {"reference": self.reference, "metrics": list(self.metrics), "comparisons": size,
                "correction": "Holm over this family; every other comparison is exploratory: its p is "
                              "uncorrected (p_holm null)"}


def prestated_family(systems: Sequence[str], scored: Sequence[str], reference: str | None = None) -> Family:
    """Each system against ``reference`` (default: the first system) on the :data:`FAMILY_METRICS` scored."""
    reference = reference if reference is not None else systems[0]
    if reference not in systems:
        raise ConfigError(f"--reference {reference!r} is not one of the systems: {', '.join(systems)}")
    return Family(reference, tuple(m for m in FAMILY_METRICS if m in scored))


def compare_systems(
    score_results: Mapping[str, object],
    *,
    n_resamples: int = 10_000,
    seed: int = 0,
    confidence: float = 0.95,
    randomization_rounds: int = 0,
    metrics: Sequence[str] | None = None,
    family: Family | None = None,
    seeds: Mapping[str, Sequence[str]] | None = None,
) -> BootstrapResult:
    """Paired bootstrap intervals and p-values for every metric and pair of systems.

    With ``randomization_rounds`` > 0, each comparison also gets an approximate-randomization
    p-value. Holm–Bonferroni adjusts the two-sided bootstrap p-values over ``family`` (the others are
    exploratory and keep their uncorrected p), or over all comparisons when no family is given. Everything is
    deterministic under ``seed``.

    ``seeds``: each system's members among ``score_results`` (its training seeds; default: each result is a
    system of one seed). A seeded system is resampled over documents and seeds together
    (:mod:`rexel_bench.stats.seeds`); approximate randomization, which permutes one pair of outputs per
    document, is left out (None) for a comparison with a seeded system.
    """
    seeds = seeds or {name: [name] for name in score_results}
    systems, rows = list(seeds), list(score_results)
    counts = metric_counts_from_scores(score_results, metrics)
    members = {system: [rows.index(m) for m in names] for system, names in seeds.items()}
    result = paired_bootstrap(counts, systems, n_resamples=n_resamples, seed=seed, confidence=confidence,
                              members=members)
    if randomization_rounds:
        rng = np.random.default_rng([seed, 1])
        by_name = {c.name: c for c in counts}
        for comparison in result.comparisons:
            if len(members[comparison.a]) > 1 or len(members[comparison.b]) > 1:
                continue
            comparison.p_randomization = randomization_p_value(
                by_name[comparison.metric], members[comparison.a][0], members[comparison.b][0],
                n_rounds=randomization_rounds, rng=rng)
    corrected = [c for c in result.comparisons if family is None or family.holds(c.metric, c.a, c.b)]
    for comparison in result.comparisons:
        comparison.confirmatory = family is None or family.holds(comparison.metric, comparison.a, comparison.b)
    for comparison, adjusted in zip(corrected, holm([c.p_two_sided for c in corrected]), strict=True):
        comparison.p_holm = adjusted
    return result
