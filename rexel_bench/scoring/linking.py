"""Entity disambiguation (ED): linking mentions and entities to Wikidata QIDs.

- ``ed_mention``: P/R/F1 over (mention span, QID) pairs;
- ``ed_entity``: P/R/F1 over (cluster, QID) pairs, the cluster's mention spans matching exactly;
- ``ed_inkb_accuracy``: accuracy on the gold mentions that have a QID (in-KB), the prediction at the
  same span counting (a missing prediction is wrong) — with gold mentions as input, the classic
  in-KB linking accuracy.

NIL is explicit: a mention or entity without a QID is linked to ``NIL``, and predicting NIL for a
gold NIL is correct. The QID of a mention is its entity's (the majority over the entity's mentions,
see the document model). :data:`EXCLUSION_RULE` removes numbers and dates, which have no QID by
design; it is printed with every ED score.
"""

from __future__ import annotations

from rexel_bench.data.model import Entity, Mention
from rexel_bench.scoring.base import DocPair, Metric, Span, mention_type, ratio, set_counts

NIL = "NIL"
#: Coarse types of values that are never linked (DocRED NUM/TIME, DWIE time/money/value).
VALUE_TYPES = frozenset({"num", "time", "value", "money", "date"})
EXCLUSION_RULE = (
    "ED excludes mentions and entities whose type is a value type (NUM, TIME; DWIE time, money, value) "
    "and that carry no QID, on the gold and the predicted side alike; every other mention without a QID is NIL."
)


def is_value_type(label: str | None) -> bool:
    """Whether a coarse type names numbers or dates (``NUM``, ``TIME``, ``type::time``, ``type_value``)."""
    if label is None:
        return False
    bare = label.split("::")[-1].removeprefix("type_").lower()
    return bare in VALUE_TYPES


def _excluded(mention: Mention, entity: Entity) -> bool:
    return entity.qid is None and is_value_type(mention_type(mention, entity))


def _mention_links(mentions, skip: set[Span]) -> set[tuple[Span, str]]:
    return {(span, entity.qid or NIL) for span, (mention, entity) in mentions.items()
            if span not in skip and not _excluded(mention, entity)}


def _excluded_gold_spans(pair: DocPair) -> set[Span]:
    return {span for span, (m, e) in pair.gold_mentions.items() if _excluded(m, e)}


def ed_mention_counts(pair: DocPair) -> tuple[int, int, int, int]:
    """Mention-level linking counts over (span, QID or NIL) pairs."""
    skip = _excluded_gold_spans(pair)
    return set_counts(_mention_links(pair.pred_mentions, skip), _mention_links(pair.gold_mentions, skip))


def _entity_links(clusters: list[list[Span]], entities, skip: set[frozenset]) -> set[tuple[frozenset, str]]:
    out = set()
    for cluster, entity in zip(clusters, entities, strict=True):
        key = frozenset(cluster)
        if not key or key in skip or (entity.qid is None and is_value_type(entity.type)):
            continue
        out.add((key, entity.qid or NIL))
    return out


def ed_entity_counts(pair: DocPair) -> tuple[int, int, int, int]:
    """Entity-level linking counts over (exact cluster, QID or NIL) pairs."""
    skip = {frozenset(c) for c, e in zip(pair.gold_clusters, pair.gold.entities, strict=True)
            if e.qid is None and is_value_type(e.type)}
    return set_counts(_entity_links(pair.pred_clusters, pair.pred.entities, skip),
                      _entity_links(pair.gold_clusters, pair.gold.entities, skip))


def inkb_counts(pair: DocPair) -> tuple[int, int]:
    """(correct, total) over gold mentions that have a QID."""
    correct = total = 0
    for span, (_, entity) in pair.gold_mentions.items():
        if entity.qid is None:
            continue
        total += 1
        predicted = pair.pred_mentions.get(span)
        correct += predicted is not None and predicted[1].qid == entity.qid
    return correct, total


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
