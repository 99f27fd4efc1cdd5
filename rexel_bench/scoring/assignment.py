"""Maximum-weight bipartite matching for CEAF, solved component by component.

CEAF aligns key and response entities one to one so that the total similarity is largest (the CoNLL
reference scorer uses the Kuhn-Munkres algorithm for it). The similarity table of a document is sparse:
most key entities overlap one response entity and nothing else. So the table is split into connected
components; a component with one pair is matched directly, a larger one is solved exactly with the
Hungarian algorithm (shortest augmenting paths with potentials, O(n² m)) on its small dense block.

This replaces ``scipy.optimize.linear_sum_assignment``, whose import alone took 0.4-0.5 s of every
scoring process, on blocks that rarely exceed a handful of rows. It is tested equal to scipy's optimum
on random tables, ties and rectangular shapes included.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Mapping

_INF = float("inf")


def max_weight_matching(weights: Mapping[tuple[int, int], float]) -> float:
    """The largest total weight of a one-to-one matching of rows to columns, where ``weights`` holds the
    weight of each (row, column) pair that may be matched (absent pairs weigh 0; weights are ≥ 0)."""
    row_degree = Counter(i for i, _ in weights)
    col_degree = Counter(j for _, j in weights)
    total, shared = 0.0, {}
    for (i, j), w in weights.items():
        if row_degree[i] == 1 and col_degree[j] == 1:  # a component of one pair: matched as it is
            total += w
        else:
            shared[(i, j)] = w
    for rows, cols, edges in _components(shared):
        total += _dense_max_weight(rows, cols, edges)
    return total


def _components(weights: Mapping[tuple[int, int], float]
                ) -> list[tuple[list[int], list[int], dict[tuple[int, int], float]]]:
    """The connected components of the bipartite graph of pairs: (rows, columns, their pairs)."""
    parent: dict[tuple[str, int], tuple[str, int]] = {}

    def find(node: tuple[str, int]) -> tuple[str, int]:
        parent.setdefault(node, node)
        while parent[node] != node:
            parent[node] = parent[parent[node]]
            node = parent[node]
        return node

    for i, j in weights:
        a, b = find(("r", i)), find(("c", j))
        if a != b:
            parent[a] = b
    groups: dict[tuple[str, int], tuple[set[int], set[int], dict[tuple[int, int], float]]] = {}
    for (i, j), w in weights.items():
        rows, cols, edges = groups.setdefault(find(("r", i)), (set(), set(), {}))
        rows.add(i)
        cols.add(j)
        edges[(i, j)] = w
    return [(sorted(rows), sorted(cols), edges) for rows, cols, edges in groups.values()]


def _dense_max_weight(rows: list[int], cols: list[int], edges: dict[tuple[int, int], float]) -> float:
    """Exact maximum-weight matching of one component, on its dense block."""
    if len(rows) > len(cols):
        rows, cols, edges = cols, rows, {(j, i): w for (i, j), w in edges.items()}
    row_at = {r: k for k, r in enumerate(rows)}
    col_at = {c: k for k, c in enumerate(cols)}
    cost = [[0.0] * len(cols) for _ in rows]
    for (i, j), w in edges.items():
        cost[row_at[i]][col_at[j]] = -w
    matched = min_cost_assignment(cost)
    return sum(-cost[k][c] for k, c in enumerate(matched))


def min_cost_assignment(cost: list[list[float]]) -> list[int]:
    """The column assigned to each row of an n × m cost matrix (n ≤ m) that minimises the total cost.

    The Hungarian algorithm with row and column potentials: each row in turn is added by a shortest
    augmenting path over reduced costs, so the partial assignment stays optimal throughout.
    """
    n, m = len(cost), len(cost[0]) if cost else 0
    if n > m:
        raise ValueError(f"min_cost_assignment needs no more rows than columns, got {n} × {m}")
    u, v = [0.0] * (n + 1), [0.0] * (m + 1)  # potentials; index 0 is the virtual start
    owner, previous = [0] * (m + 1), [0] * (m + 1)  # owner[j]: row (1-based) holding column j
    for row in range(1, n + 1):
        owner[0], column = row, 0
        best, visited = [_INF] * (m + 1), [False] * (m + 1)
        while owner[column]:
            visited[column] = True
            i, delta, following = owner[column], _INF, 0
            costs = cost[i - 1]
            for j in range(1, m + 1):
                if not visited[j]:
                    reduced = costs[j - 1] - u[i] - v[j]
                    if reduced < best[j]:
                        best[j], previous[j] = reduced, column
                    if best[j] < delta:
                        delta, following = best[j], j
            for j in range(m + 1):
                if visited[j]:
                    u[owner[j]] += delta
                    v[j] -= delta
                else:
                    best[j] -= delta
            column = following
        while column:  # flip the augmenting path back to the start
            before = previous[column]
            owner[column] = owner[before]
            column = before
    assignment = [0] * n
    for j in range(1, m + 1):
        if owner[j]:
            assignment[owner[j] - 1] = j - 1
    return assignment
