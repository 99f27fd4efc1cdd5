"""The CEAF matching solver against scipy's ``linear_sum_assignment`` (the optimum it replaces), on random
sparse tables with ties, rectangular blocks, empty tables, and dense cost matrices."""

from __future__ import annotations

import itertools

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy.optimize import linear_sum_assignment

from rexel_bench.scoring.assignment import max_weight_matching, min_cost_assignment


def scipy_best(weights: dict[tuple[int, int], float]) -> float:
    """The reference optimum: scipy on the dense table (absent pairs weigh 0)."""
    if not weights:
        return 0.0
    rows = 1 + max(i for i, _ in weights)
    cols = 1 + max(j for _, j in weights)
    dense = np.zeros((rows, cols))
    for (i, j), w in weights.items():
        dense[i, j] = w
    r, c = linear_sum_assignment(dense, maximize=True)
    return float(dense[r, c].sum())


tables = st.dictionaries(
    st.tuples(st.integers(0, 7), st.integers(0, 7)),
    # small integers make ties common (CEAFm counts); fractions as CEAFe's φ4 gives them
    st.one_of(st.integers(1, 4).map(float), st.fractions(1, 1, max_denominator=9).map(float)),
    max_size=20,
)


@settings(max_examples=400, deadline=None)
@given(tables)
def test_matching_equals_scipy_optimum(weights):
    assert abs(max_weight_matching(weights) - scipy_best(weights)) < 1e-9


def test_hand_worked_conflict():
    # key 0 overlaps response 0 (3) and 1 (2); key 1 overlaps response 0 (2): 0→1 and 1→0 give 4 > 3
    assert max_weight_matching({(0, 0): 3.0, (0, 1): 2.0, (1, 0): 2.0}) == 4.0
    assert max_weight_matching({}) == 0.0
    assert max_weight_matching({(5, 9): 0.5}) == 0.5


@settings(max_examples=200, deadline=None)
@given(st.integers(1, 6), st.integers(0, 4), st.data())
def test_min_cost_assignment_is_optimal_and_one_to_one(n, extra, data):
    m = n + extra
    cost = [[data.draw(st.integers(-5, 5)) / 2 for _ in range(m)] for _ in range(n)]
    assignment = min_cost_assignment(cost)
    assert len(set(assignment)) == n and all(0 <= j < m for j in assignment)
    total = sum(cost[i][j] for i, j in enumerate(assignment))
    brute = min(sum(cost[i][j] for i, j in enumerate(cols)) for cols in itertools.permutations(range(m), n))
    r, c = linear_sum_assignment(np.array(cost))
    assert abs(total - brute) < 1e-9 and abs(total - float(np.array(cost)[r, c].sum())) < 1e-9


def test_min_cost_assignment_refuses_more_rows_than_columns():
    with pytest.raises(ValueError, match="2 × 1"):
        min_cost_assignment([[1.0], [2.0]])
