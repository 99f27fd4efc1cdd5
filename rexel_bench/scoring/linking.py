"""Entity disambiguation (ED): linking mentions and entities to Wikidata QIDs.

- ``ed_mention``: P/R/F1 over (mention span, QID) pairs;
- ``ed_entity``: P/R/F1 over (cluster, QID) pairs, the cluster's mention spans matching exactly;
- ``ed_inkb_accuracy``: accuracy on the gold (span, QID) pairs (in-KB), the prediction at the same
  span counting (a missing prediction, or a span predicted with two QIDs, is wrong) — with gold
  mentions as input, the classic in-KB linking accuracy.

NIL is explicit: a mention or entity without a QID is linked to ``NIL``, and predicting NIL for a
gold NIL is correct. The QID of a mention is its entity's (the majority over the entity's mentions,
see the document model). :data:`EXCLUSION_RULE` removes numbers and dates, which have no QID by
design; it is printed with every ED score.
"""

from __future__ import annotations

import functools
from collections import defaultdict
from collections.abc import Sequence

from rexel_bench.data.model import Entity, Mention
from rexel_bench.scoring.base import DocPair, Metric, Span, mention_type, ratio, set_counts

NIL = "NIL"
#: Coarse types of values that are never linked (DocRED NUM/TIME, DWIE time/money/value).
VALUE_TYPES = frozenset({"num", "time", "value", "money", "date"})
EXCLUSION_RULE = (
    "ED excludes mentions and entities whose type is a value type (NUM, TIME; DWIE time, money, value) "
    "and that carry no QID, on the gold and the predicted side alike; every other mention without a QID is NIL."
)


@functools.cache  # a handful of labels, asked once per mention of every document
def is_value_type(label: str | None) -> bool:
    """Whether a coarse type names numbers or dates (``NUM``, ``TIME``, ``type::time``, ``type_value``)."""
    if label is None:
        return False
    bare = label.split("::")[-1].removeprefix("type_").lower()
    return bare in VALUE_TYPES


def _excluded(mention: Mention, entity: Entity) -> bool:
    return entity.qid is None and is_value_type(mention_type(mention, entity))


def _mention_links(mentions: list[tuple[Span, Mention, Entity]], skip: set[Span]) -> set[tuple[Span, str]]:
    return {(span, entity.qid or NIL) for span, mention, entity in mentions  # a QID is never excluded
            if span not in skip and (entity.qid is not None or not _excluded(mention, entity))}


def _excluded_gold_spans(pair: DocPair) -> set[Span]:
    return {span for span, m, e in pair.gold_mentions if e.qid is None and _excluded(m, e)}


def ed_mention_counts(pair: DocPair) -> tuple[int, int, int, int]:
    """Mention-level linking counts over (span, QID or NIL) pairs."""
    skip = _excluded_gold_spans(pair)
    return set_counts(_mention_links(pair.pred_mentions, skip), _mention_links(pair.gold_mentions, skip))


def _is_value_entity(entity: Entity) -> bool:
    return entity.qid is None and is_value_type(entity.type)


def _entity_links(entities: Sequence[Entity], skip: set[frozenset]) -> set[tuple[frozenset, str]]:
    return {(entity.spans, entity.qid or NIL) for entity in entities
            if entity.spans and entity.spans not in skip and not _is_value_entity(entity)}


def ed_entity_counts(pair: DocPair) -> tuple[int, int, int, int]:
    """Entity-level linking counts over (exact cluster, QID or NIL) pairs."""
    skip = {e.spans for e in pair.gold.entities if _is_value_entity(e)}
    return set_counts(_entity_links(pair.pred.entities, skip), _entity_links(pair.gold.entities, skip))


def inkb_counts(pair: DocPair) -> tuple[int, int]:
    """(correct, total) over the gold (span, QID) pairs.

    The prediction at a span is correct when it links that span to the gold QID and to nothing else
    (a span listed twice with two QIDs is ambiguous, hence wrong, whatever the order).
    """
    predicted: dict[Span, set[str | None]] = defaultdict(set)
    for span, _, entity in pair.pred_mentions:
        predicted[span].add(entity.qid)
    gold = {(span, entity.qid) for span, _, entity in pair.gold_mentions if entity.qid is not None}
    return sum(predicted.get(span) == {qid} for span, qid in gold), len(gold)


def accuracy(totals):
    """Accuracy from ``[..., 2]`` totals of (correct, total)."""
    return {"accuracy": ratio(totals[..., 0], totals[..., 1])}


ED_MENTION = Metric("ed_mention", "1", "Entity disambiguation, mention level: span and QID (NIL explicit)",
                    ("p_num", "p_den", "r_num", "r_den"), ed_mention_counts, family="linking", requires="qids")
ED_ENTITY = Metric("ed_entity", "1", "Entity disambiguation, entity level: exact cluster and QID (NIL explicit)",
                   ("p_num", "p_den", "r_num", "r_den"), ed_entity_counts, family="linking", requires="qids")
ED_INKB = Metric("ed_inkb_accuracy", "1", "In-KB linking accuracy on gold mentions with a QID",
                 ("correct", "total"), inkb_counts, aggregate=accuracy, headline="accuracy", family="linking",
                 requires="qids")
