"""Build small documents from cluster notation such as "{a} {bc} {def}" for scorer tests."""

from __future__ import annotations

import numpy as np

from rexel_bench.data.model import Document, Entity, Mention, Relation
from rexel_bench.scoring.base import DocPair, Metric

LETTERS = "abcdefghijklmnopqrstuvwxyz0123456789"


def span_of(token: str, overlapping: bool = False) -> tuple[int, int, int]:
    """Mention spans for letters: 'a' → tokens [0, 1); an overlapping 'B' → [1, 3) (overlaps 'b')."""
    i = LETTERS.index(token.lower())
    return (0, i, i + 2) if overlapping else (0, i, i + 1)


def clusters(notation: str, overlapping: str = "") -> list[list[tuple[int, int, int]]]:
    """'{a} {bcxB}' → clusters of spans; upper-case letters duplicate the lower-case span unless
    listed in ``overlapping`` (then they are a different span overlapping it)."""
    out = []
    for group in notation.replace("}", "").split("{")[1:]:
        out.append([span_of(ch, overlapping=ch.isupper() and ch in overlapping) for ch in group.strip()])
    return out


def doc(spans: list[list[tuple[int, int, int]]], *, types: list[str] | None = None,
        qids: list[str | None] | None = None, relations: list[tuple[int, int, str]] = (),
        doc_id: str = "d") -> Document:
    """A one-sentence document with the given entities (clusters of spans)."""
    entities = tuple(
        Entity(mentions=tuple(Mention(*s, text=f"t{s[1]}") for s in cluster),
               type=types[i] if types else "X", qid=qids[i] if qids else None)
        for i, cluster in enumerate(spans))
    rels = tuple(Relation(h, t, r, evidence=()) for h, t, r in relations)
    return Document(id=doc_id, title=doc_id, sentences=(tuple(LETTERS),), entities=entities, relations=rels)


def score(metric: Metric, pairs: list[tuple[Document, Document]]) -> dict[str, float]:
    """Corpus values of a metric over (gold, pred) pairs, summing per-document counts."""
    totals = np.sum([np.asarray(metric.counts(DocPair(g, p)), dtype=float) for g, p in pairs], axis=0)
    return {k: float(v) for k, v in metric.aggregate(totals).items()}
