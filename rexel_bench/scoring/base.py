"""What every metric is: per-document sufficient statistics plus a vectorised aggregate.

A metric turns one (gold, predicted) document pair into a fixed-length vector of counts (its
``count_names``); the corpus score is the aggregate of the summed counts. Because aggregation works
on arrays of any leading shape (``[..., n_counts]``), a bootstrap resample is only an index into the
per-document count matrix: no re-scoring (see :mod:`rexel_bench.stats`).

Most metrics are precision/recall/F1 with counts ``(p_num, p_den, r_num, r_den)``: numerator and
denominator of precision and of recall, kept apart because soft and coreference metrics credit
precision and recall differently. Ratios with a zero denominator are 0, as in the CoNLL scorer.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from rexel_bench.data.model import Document, Entity, Mention
from rexel_bench.perf import cached_value

Span = tuple[int, int, int]

#: ``Document.meta`` key marking the empty gold document that stands for a predicted document whose id
#: is not in the gold data (``--lenient``): its facts are wrong, and DocRED does not count their evidence.
UNKNOWN_DOCUMENT = "rexel_bench.unknown_document"


def ratio(num: np.ndarray | float, den: np.ndarray | float) -> np.ndarray:
    """``num / den`` elementwise, 0 where the denominator is 0."""
    num, den = np.asarray(num, dtype=float), np.asarray(den, dtype=float)
    return np.divide(num, den, out=np.zeros(np.broadcast(num, den).shape), where=den != 0)


def f1(p: np.ndarray, r: np.ndarray) -> np.ndarray:
    """Harmonic mean of precision and recall, 0 where both are 0."""
    return ratio(2 * p * r, p + r)


#: The four counts of a precision/recall metric, in the order :func:`prf` reads them.
PRF_COUNT_NAMES = ("p_num", "p_den", "r_num", "r_den")


def class_count_names(classes: Sequence[str]) -> tuple[str, ...]:
    """The count names of a per-class (macro) metric: ``<class>:<count>`` for each class (``none`` when the
    data has no class)."""
    return tuple(f"{c}:{k}" for c in (classes or ("none",)) for k in PRF_COUNT_NAMES)


def prf(totals: np.ndarray) -> dict[str, np.ndarray]:
    """Precision, recall and F1 from ``[..., 4]`` arrays of ``(p_num, p_den, r_num, r_den)``."""
    totals = np.asarray(totals, dtype=float)
    p = ratio(totals[..., 0], totals[..., 1])
    r = ratio(totals[..., 2], totals[..., 3])
    return {"p": p, "r": r, "f1": f1(p, r)}


def set_counts(pred: set | frozenset, gold: set | frozenset) -> tuple[int, int, int, int]:
    """PRF counts of exact set matching: ``(|P∩G|, |P|, |P∩G|, |G|)``."""
    tp = len(pred & gold)
    return tp, len(pred), tp, len(gold)


def set_counts_by_class(pred: set[tuple], gold: set[tuple], class_at: int = 2
                        ) -> dict[str, tuple[int, int, int, int]]:
    """:func:`set_counts` of each class's items, the class read at index ``class_at`` of every item (a
    fact's relation, a mention's type), in one pass over each side."""
    counts: dict[str, list[int]] = {}
    for item in pred:
        row = counts.setdefault(item[class_at], [0, 0, 0, 0])
        row[1] += 1
        if item in gold:
            row[0] += 1
            row[2] += 1
    for item in gold:
        counts.setdefault(item[class_at], [0, 0, 0, 0])[3] += 1
    return {name: (row[0], row[1], row[2], row[3]) for name, row in counts.items()}


@dataclass(frozen=True)
class Metric:
    """A named metric: per-document counts and the aggregate that turns summed counts into values.

    ``counts`` maps a :class:`DocPair` to a vector of ``len(count_names)`` numbers; ``aggregate``
    maps ``[..., n_counts]`` totals to named values (``p``, ``r``, ``f1``, ``accuracy``...), the
    first-named value of ``headline`` being the one tables rank by.
    """

    name: str
    version: str
    description: str
    count_names: tuple[str, ...]
    counts: Callable[[DocPair], tuple[float, ...] | np.ndarray]
    aggregate: Callable[[np.ndarray], dict[str, np.ndarray]] = prf
    headline: str = "f1"
    family: str = ""
    requires: str | None = None  # what the gold must carry for the metric to apply: "qids" or "fine_types"


def mention_type(mention: Mention, entity: Entity) -> str | None:
    """The type a scorer compares: the mention's own label, else its entity's."""
    return mention.type if mention.type is not None else entity.type


@dataclass
class DocPair:
    """A gold document and the prediction for it, with views that several metrics share.

    Views are computed once per pair (cached) so that scoring every metric stays fast. Every view is
    independent of the order of mentions, entities and facts: a span repeated in a document keeps all
    its occurrences (each metric treats repeats as its reference does), and where a reference's
    result would depend on order, scorers use the documents in :func:`canonical_order`.
    """

    gold: Document
    pred: Document
    _memo: dict[str, Any] = field(default_factory=dict, repr=False)

    def memo(self, key: str, compute: Callable[[DocPair], Any]) -> Any:
        """A view computed once per pair and shared by the metrics that need it."""
        if key not in self._memo:
            self._memo[key] = compute(self)
        return self._memo[key]

    @property
    def gold_known(self) -> bool:
        """False when the prediction names a document that is not in the gold data."""
        return not self.gold.meta.get(UNKNOWN_DOCUMENT)

    @cached_value
    def gold_entity_spans(self) -> list[frozenset[Span]]:
        """Each gold entity as the set of its mention spans (index-aligned with gold entities)."""
        return [e.spans for e in self.gold.entities]

    @cached_value
    def pred_entity_spans(self) -> list[frozenset[Span]]:
        """Each predicted entity as the set of its mention spans (index-aligned with predicted entities)."""
        return [e.spans for e in self.pred.entities]

    @cached_value
    def gold_spans(self) -> set[Span]:
        """Every gold mention span."""
        return {s for c in self.gold_entity_spans for s in c}

    @cached_value
    def pred_spans(self) -> set[Span]:
        """Every predicted mention span."""
        return {s for c in self.pred_entity_spans for s in c}

    @cached_value
    def gold_mentions(self) -> list[tuple[Span, Mention, Entity]]:
        """Every gold mention occurrence with its entity (a repeated span appears once per occurrence)."""
        return occurrences(self.gold)

    @cached_value
    def pred_mentions(self) -> list[tuple[Span, Mention, Entity]]:
        """Every predicted mention occurrence with its entity."""
        return occurrences(self.pred)

    @property
    def duplicates(self) -> dict[str, int]:
        """How many mention occurrences repeat a span already listed in the same document, on each side."""
        gold = sum(len(e.mentions) for e in self.gold.entities) - len(self.gold_spans)
        if self.pred.entities is self.gold.entities:  # a DocRED submission, put on the gold's own entities
            return {"gold": gold, "pred": gold}
        return {"gold": gold, "pred": sum(len(e.mentions) for e in self.pred.entities) - len(self.pred_spans)}


def occurrences(doc: Document) -> list[tuple[Span, Mention, Entity]]:
    """(span, mention, entity) for every mention of every entity, in document order."""
    return [(m.span, m, entity) for entity in doc.entities for m in entity.mentions]


def canonical_order(entities: list[list[Span]]) -> list[list[Span]]:
    """Entities as sorted span lists, those with more distinct spans first, then by their spans.

    This is the order-free input of scorers whose reference depends on input order: where v8.01
    keeps a span repeated in two response entities in the first one listed, it stays here in the
    larger entity (ties: the entity whose sorted spans come first).
    """
    def key(entity: list[Span]) -> tuple:
        distinct = sorted(set(entity))
        return -len(distinct), distinct, entity
    return sorted((sorted(e) for e in entities), key=key)


def as_vector(values: Any, size: int) -> np.ndarray:
    """A metric's per-document counts as a float vector, checked for length."""
    vector = np.asarray(values, dtype=float)
    if vector.shape != (size,):
        raise ValueError(f"expected {size} counts, got shape {vector.shape}")
    return vector


def macro_prf(totals: np.ndarray, n_classes: int) -> dict[str, np.ndarray]:
    """Macro average over classes of P, R and F1 from ``[..., n_classes * 4]`` per-class counts.

    Classes with neither gold nor predicted items (in that sample) are left out of the mean.
    """
    totals = np.asarray(totals, dtype=float)
    per_class = totals.reshape(*totals.shape[:-1], n_classes, 4)
    values = prf(per_class)
    present = (per_class[..., 1] + per_class[..., 3]) > 0
    n_present = present.sum(axis=-1)
    return {k: ratio((v * present).sum(axis=-1), n_present) for k, v in values.items()}


@dataclass(frozen=True)
class ClassedMetric:
    """A P/R/F1 metric that can be broken down by class (relation, entity type).

    ``counts_by_class`` maps a document pair to ``{class: (p_num, p_den, r_num, r_den)}``. The
    scoring API turns it into a micro metric (``name``: counts summed over classes) and a macro
    metric (``name.macro``: the mean of per-class F1 over the classes seen in the corpus).
    """

    name: str
    version: str
    description: str
    counts_by_class: Callable[[DocPair], Mapping[str, tuple[float, float, float, float]]]
    family: str = ""
    requires: str | None = None
