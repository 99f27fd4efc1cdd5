"""Significance: paired bootstrap, approximate randomization, Holm–Bonferroni correction."""

from rexel_bench.stats.compare import compare_systems

__all__ = ["compare_systems"]
