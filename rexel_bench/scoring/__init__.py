"""Scorers for every subtask, one module per metric family, all returning per-document counts."""

from rexel_bench.scoring.api import ScoreResult, score_documents

__all__ = ["ScoreResult", "score_documents"]
