"""Scores by document size: buckets of documents (by tokens, by entities) with bootstrap intervals.

This answers how performance scales with document size. Buckets are fixed-width ranges merged until
each holds at least ``min_docs`` documents, so that every interval rests on enough documents.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import numpy as np

from rexel_bench.stats.bootstrap import MetricCounts, percentile_interval, resample_weights


def bucket_edges(sizes: Sequence[int], n_buckets: int = 5, min_docs: int = 20) -> list[int]:
    """Edges ``[e0, e1, ..., ek]`` (bucket i is ``e_i <= size < e_{i+1}``) from quantiles, merged so
    that every bucket holds at least ``min_docs`` documents."""
    sizes_arr = np.asarray(sizes)
    if sizes_arr.size == 0:
        return []
    quantiles = np.quantile(sizes_arr, np.linspace(0, 1, n_buckets + 1))
    edges = sorted({int(np.floor(q)) for q in quantiles[:-1]} | {int(sizes_arr.max()) + 1})
    merged = [edges[0]]
    for edge in edges[1:]:
        if np.sum((sizes_arr >= merged[-1]) & (sizes_arr < edge)) >= min_docs or edge == edges[-1]:
            merged.append(edge)
    while len(merged) > 2 and np.sum(sizes_arr >= merged[-2]) < min_docs:
        del merged[-2]
    return merged


def bucket_scores(metric: MetricCounts, systems: Sequence[str], sizes: Sequence[int], *, n_resamples: int = 1000,
                  seed: int = 0, confidence: float = 0.95, min_docs: int = 20) -> list[dict[str, object]]:
    """For each size bucket: its range, document count, and each system's value with a percentile CI."""
    sizes_arr = np.asarray(sizes)
    edges = bucket_edges(sizes, min_docs=min_docs)
    rng = np.random.default_rng(seed)
    out = []
    for low, high in itertools.pairwise(edges):
        members = np.flatnonzero((sizes_arr >= low) & (sizes_arr < high))
        counts = metric.counts[:, members, :].astype(float)  # [S, n, k]
        observed = metric.aggregate(counts.sum(axis=1))[metric.headline]
        weights = resample_weights(rng, len(members), n_resamples).astype(float)
        totals = np.einsum("bn,snk->bsk", weights, counts)
        lo, hi = percentile_interval(np.asarray(metric.aggregate(totals)[metric.headline]), confidence)
        out.append({
            "range": [int(low), int(high) - 1], "documents": len(members),
            "systems": {s: {"value": float(observed[i]), "ci": [float(lo[i]), float(hi[i])]}
                        for i, s in enumerate(systems)},
        })
    return out
