"""Mention detection (MD) and entity typing (ET).

- ``md``: span-level P/R/F1, exact boundaries (sentence, start, end).
- ``md_partial``: a predicted mention counts towards precision if it overlaps a gold mention of the
  same sentence by at least one token; a gold mention counts towards recall if some predicted
  mention overlaps it (so P and R numerators can differ).
- ``et``: "strict" typing: span and coarse type must both match (per-type counts give the macro); a
  span listed twice with two types is a (span, type) pair of each, whatever the order.
- ``et_fine``: multi-label fine types, micro P/R/F1 over (span, class QID) pairs, on documents whose
  gold mentions carry fine types (DocRED-IE); other documents contribute nothing.
"""

from __future__ import annotations

from collections import defaultdict

from rexel_bench.data.model import Entity, Mention
from rexel_bench.scoring.base import ClassedMetric, DocPair, Metric, Span, mention_type, set_counts, set_counts_by_class


def md_counts(pair: DocPair) -> tuple[int, int, int, int]:
    """Exact-span mention detection counts."""
    return set_counts(pair.pred_spans, pair.gold_spans)


def _covered(spans: set[Span]) -> dict[int, set[int]]:
    """For each sentence, every token that some span covers (token offsets, end exclusive)."""
    out: dict[int, set[int]] = defaultdict(set)
    for sent, start, end in spans:
        out[sent].update(range(start, end))
    return out


def _overlapping(spans: set[Span], other: set[Span]) -> int:
    """How many spans share at least one token with some span of ``other`` (a span found in ``other``
    does; only the rest are compared token by token)."""
    rest = [span for span in spans if span not in other]
    if not rest:
        return len(spans)
    covered = _covered(other)
    return len(spans) - len(rest) + sum(1 for sent, start, end in rest
                                        if sent in covered and not covered[sent].isdisjoint(range(start, end)))


def md_partial_counts(pair: DocPair) -> tuple[int, int, int, int]:
    """Partial-overlap mention detection counts (precision and recall credited separately)."""
    p_num = _overlapping(pair.pred_spans, pair.gold_spans)
    r_num = _overlapping(pair.gold_spans, pair.pred_spans)
    return p_num, len(pair.pred_spans), r_num, len(pair.gold_spans)


def typed_spans(mentions: list[tuple[Span, Mention, Entity]]) -> set[tuple[Span, str]]:
    """Every (span, type) pair; a span repeated with two types is a pair of each."""
    return {(span, str(mention_type(mention, entity))) for span, mention, entity in mentions}


def et_counts_by_type(pair: DocPair) -> dict[str, tuple[int, int, int, int]]:
    """Strict typing counts for each type: span and type must both match."""
    return set_counts_by_class(typed_spans(pair.pred_mentions), typed_spans(pair.gold_mentions), class_at=1)


def _fine_pairs(mentions: list[tuple[Span, Mention, Entity]]) -> set[tuple[Span, str]]:
    return {(span, fine.qid) for span, mention, entity in mentions
            for fine in mention.fine_types or entity.fine_types}


def et_fine_counts(pair: DocPair) -> tuple[int, int, int, int]:
    """Fine-type counts over (span, class) pairs; zero when the gold document has no fine types."""
    gold = _fine_pairs(pair.gold_mentions)
    if not gold:
        return 0, 0, 0, 0
    return set_counts(_fine_pairs(pair.pred_mentions), gold)


MD = Metric("md", "1", "Mention detection, exact span match", ("p_num", "p_den", "r_num", "r_den"), md_counts,
            family="mentions")
MD_PARTIAL = Metric("md_partial", "1", "Mention detection, partial overlap (>= 1 shared token)",
                    ("p_num", "p_den", "r_num", "r_den"), md_partial_counts, family="mentions")
ET_FINE = Metric("et_fine", "1", "Entity typing, fine Wikidata classes, micro over (span, class) pairs",
                 ("p_num", "p_den", "r_num", "r_den"), et_fine_counts, family="typing", requires="fine_types")
ET = ClassedMetric("et", "1", "Entity typing, strict: mention span and coarse type both match", et_counts_by_type,
                   family="typing")
