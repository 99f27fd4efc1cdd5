"""Paired bootstrap, randomization and Holm: the properties a user relies on."""

from __future__ import annotations

import numpy as np
import pytest

from rexel_bench.scoring.base import prf
from rexel_bench.scoring.linking import accuracy
from rexel_bench.stats.bootstrap import MetricCounts, paired_bootstrap, shifted_p_values
from rexel_bench.stats.correction import holm
from rexel_bench.stats.randomization import randomization_p_value


def _prf_counts(rng: np.random.Generator, n_docs: int, skill: float) -> np.ndarray:
    """Per-document (p_num, p_den, r_num, r_den) of a system finding a share ``skill`` of 20 gold items."""
    gold = np.full(n_docs, 20.0)
    predicted = rng.integers(15, 25, n_docs).astype(float)
    correct = np.minimum(rng.binomial(20, skill), predicted)
    return np.stack([correct, predicted, correct, gold], axis=1)


def test_identical_systems_give_p_one_and_equal_intervals():
    counts = _prf_counts(np.random.default_rng(1), 200, 0.6)
    metric = MetricCounts("f", np.stack([counts, counts]), prf)
    result = paired_bootstrap([metric], ["a", "b"], n_resamples=2000, seed=3)
    (comparison,) = result.comparisons
    assert comparison.delta == 0
    assert comparison.p_a_better == comparison.p_b_better == comparison.p_two_sided == 1.0
    a, b = result.intervals["a"]["f"]["f1"], result.intervals["b"]["f"]["f1"]
    assert a.percentile == b.percentile and a.bca == b.bca and a.value == b.value
    assert randomization_p_value(metric, 0, 1, n_rounds=500, rng=np.random.default_rng(0)) == 1.0


def test_system_better_on_every_document_is_significant():
    rng = np.random.default_rng(2)
    worse = _prf_counts(rng, 100, 0.5)
    better = worse.copy()
    better[:, 0] += 2  # two more correct items in every document, same number predicted
    better[:, 2] += 2
    metric = MetricCounts("f", np.stack([better, worse]), prf)
    result = paired_bootstrap([metric], ["better", "worse"], n_resamples=10_000, seed=0)
    (comparison,) = result.comparisons
    assert comparison.delta > 0
    assert comparison.p_a_better < 0.001 and comparison.p_two_sided < 0.001
    assert comparison.p_b_better > 0.99
    assert randomization_p_value(metric, 0, 1, n_rounds=2000, rng=np.random.default_rng(0)) < 0.001


@pytest.mark.parametrize("kind", ["percentile", "bca"])
def test_ninety_five_percent_intervals_cover_the_known_mean(kind):
    """400 simulated corpora of 150 documents, accuracy with true value 0.7: coverage within 93–97%."""
    rng = np.random.default_rng(20261124)
    covered = 0
    for sim in range(400):
        totals = rng.integers(5, 15, 150).astype(float)
        correct = rng.binomial(totals.astype(int), 0.7).astype(float)
        metric = MetricCounts("acc", np.stack([np.stack([correct, totals], axis=1)]), accuracy, "accuracy")
        interval = paired_bootstrap([metric], ["s"], n_resamples=1000, seed=sim).intervals["s"]["acc"]["accuracy"]
        low, high = getattr(interval, kind)
        covered += low <= 0.7 <= high
    assert 0.93 <= covered / 400 <= 0.97


def test_deterministic_under_seed():
    counts = _prf_counts(np.random.default_rng(5), 80, 0.6)
    other = _prf_counts(np.random.default_rng(6), 80, 0.55)
    metric = MetricCounts("f", np.stack([counts, other]), prf)
    first = paired_bootstrap([metric], ["a", "b"], n_resamples=500, seed=11).to_dict()
    again = paired_bootstrap([metric], ["a", "b"], n_resamples=500, seed=11).to_dict()
    different = paired_bootstrap([metric], ["a", "b"], n_resamples=500, seed=12).to_dict()
    assert first == again
    assert first["intervals"] != different["intervals"]


def test_shifted_p_values_hand_worked():
    # observed δ = 0.1; shifted samples δ* − δ = {-0.2, -0.05, 0.0, 0.1, 0.15}
    # p(A better): shifted ≥ 0.1 → 0.1, 0.15 → (2 + 1) / 6; two-sided |shifted| ≥ 0.1 → (3 + 1) / 6
    # p(B better): shifted ≤ 0.1 → four samples → (4 + 1) / 6
    samples = np.array([-0.1, 0.05, 0.1, 0.2, 0.25])
    p_a, p_b, p_two = shifted_p_values(samples, 0.1)
    assert p_a == pytest.approx(3 / 6) and p_two == pytest.approx(4 / 6)
    assert p_b == pytest.approx(5 / 6)


def test_holm_adjustment_hand_worked():
    # sorted p: 0.01 (×4), 0.02 (×3 → 0.06), 0.03 (×2 → 0.06), 0.04 (×1 → 0.04 → monotone 0.06)
    assert holm([0.03, 0.01, 0.04, 0.02]) == pytest.approx([0.06, 0.04, 0.06, 0.06])
    assert holm([0.5, 0.9]) == pytest.approx([1.0, 1.0])
    assert holm([]) == []
