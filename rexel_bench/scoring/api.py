"""Scoring predictions against gold: alignment, checks, every metric, per-document counts.

:func:`score_documents` is the one entry point. It pairs predicted documents with gold ones by id,
checks the predictions (spans inside the document, relations to existing entities), computes each
metric's per-document counts, and aggregates them. The per-document count matrices are kept in the
result, so that significance testing resamples documents without re-scoring.
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

import numpy as np

from rexel_bench.data.model import Document, Entity
from rexel_bench.errors import PredictionError
from rexel_bench.perf import paused_gc
from rexel_bench.scoring import coref, linking, mentions, relations
from rexel_bench.scoring.base import (
    PRF_COUNT_NAMES,
    UNKNOWN_DOCUMENT,
    ClassedMetric,
    DocPair,
    Metric,
    as_vector,
    class_count_names,
    macro_prf,
    prf,
)

#: Metric families selectable with ``--metrics`` (a family name selects all its metrics).
FAMILIES = ("mentions", "typing", "linking", "coreference", "docred", "end-to-end")

#: Every convention that differs from a reference implementation on purpose, and why; printed by
#: ``rexel-bench score`` and kept in ``--json`` output and reports.
CONVENTIONS = (
    "Scores never depend on the order of mentions, entities or facts. An entity's QID and type are the "
    "majority over its mentions, ties broken by the smallest value (QIDs by number: Q5 before Q42), not by the "
    "first mention as DocRED-IE's own reading does.",
    "Coreference: the CoNLL-2012 scorer v8.01 (LEA from its LEA branch), repeated mentions included. Where v8.01 "
    "depends on the order of entities (one span listed in two entities), both sides are read sorted, larger "
    "entities first, so a repeated response mention stays in the larger entity; a file with more than 10 "
    "repeated response mentions is scored (v8.01 refuses it) and the repeats are counted in a note.",
    "DocRED protocol: the current official evaluation.py (a repeated fact counts once; facts of unknown "
    "documents are wrong and their evidence is not counted; missing entity indices are wrong). Copies of one "
    "fact with different evidence keep the smallest evidence (the script keeps the first listed); an empty "
    "submission scores 0 (the script divides by zero).",
    "e2e_hard: JEREX strict scoring; an entity is the set of its own mention spans, so a span listed in two "
    "entities belongs to both.",
    "e2e_soft: Linked-DocRED relation_f1 (soft aggregation), each copy of a repeated mention counted; no "
    "prediction scores 0 (the reference divides by zero); every relation label is scored (the reference "
    "knows DocRED's 96 only).",
    "MD, ET and ED with a span listed twice: each distinct (span, value) pair counts once; in-KB accuracy "
    "counts a span predicted with two QIDs as wrong.",
)

#: The metric families each convention is about (None: every family), in the order of :data:`CONVENTIONS`.
_CONVENTION_FAMILIES: tuple[frozenset[str] | None, ...] = (
    None, frozenset({"coreference"}), frozenset({"docred"}), frozenset({"end-to-end"}), frozenset({"end-to-end"}),
    frozenset({"mentions", "typing", "linking"}))


def conventions_for(families: Iterable[str]) -> tuple[str, ...]:
    """The conventions that concern the metric families scored (``score -m docred`` prints DocRED's alone)."""
    scored = set(families)
    return tuple(text for text, about in zip(CONVENTIONS, _CONVENTION_FAMILIES, strict=True)
                 if about is None or about & scored)


def docred_metrics(train: frozenset[tuple[str, str, str]] | None) -> list[Metric | ClassedMetric]:
    """The DocRED-protocol metrics; Ign F1 only when training facts are given."""
    def counts(pair: DocPair) -> tuple[int, ...]:
        return pair.memo("docred", lambda p: relations.docred_counts(p, train or frozenset()))

    out: list[Metric | ClassedMetric] = [relations.DOCRED_RE_BY_RELATION]
    if train is not None:
        out.append(Metric("docred_re_ign", "1", "DocRED Ign F1: correct facts seen in training ignored",
                          PRF_COUNT_NAMES, lambda p: relations.re_ign_prf(counts(p)),
                          family="docred"))
    out.append(Metric("docred_evidence", "1", "DocRED evidence F1 (supporting sentences)",
                      PRF_COUNT_NAMES, lambda p: relations.evidence_prf(counts(p)),
                      family="docred", requires="evidence"))
    return out


def all_metrics(train: frozenset[tuple[str, str, str]] | None = None) -> list[Metric | ClassedMetric]:
    """Every metric, in report order."""
    return [
        mentions.MD, mentions.MD_PARTIAL, mentions.ET, mentions.ET_FINE,
        linking.ED_MENTION, linking.ED_ENTITY, linking.ED_INKB,
        coref.MUC, coref.B3, coref.CEAFM, coref.CEAFE, coref.BLANC, coref.LEA, coref.CONLL,
        *docred_metrics(train),
        relations.E2E_HARD, relations.E2E_HARD_TYPED, relations.E2E_SOFT, relations.E2E_LINKED,
    ]


@dataclass
class MetricResult:
    """One metric over a corpus: per-document counts, the aggregate, and how to recompute it."""

    name: str
    version: str
    description: str
    family: str
    count_names: tuple[str, ...]
    counts: np.ndarray  # [n_docs, n_counts]
    aggregate: Callable[[np.ndarray], dict[str, np.ndarray]]
    headline: str = "f1"
    classes: tuple[str, ...] = ()

    @property
    def values(self) -> dict[str, float]:
        """The corpus values (micro over documents: counts summed, then aggregated)."""
        return {k: float(v) for k, v in self.aggregate(self.counts.sum(axis=0)).items()}

    def to_dict(self, per_document: bool = False) -> dict[str, Any]:
        """Machine-readable form: values, summed counts, version (and per-document counts if asked)."""
        out: dict[str, Any] = {
            "version": self.version, "description": self.description, "family": self.family,
            "headline": self.headline, "values": self.values,
            "totals": {n: float(v) for n, v in zip(self.count_names, self.counts.sum(axis=0), strict=True)},
        }
        if self.classes:
            out["classes"] = list(self.classes)
        if per_document:
            out["per_document"] = self.counts.tolist()
        return out


@dataclass
class ScoreResult:
    """Every metric of one system on one gold set, with the notes a reader must see."""

    doc_ids: list[str]
    metrics: dict[str, MetricResult]
    notes: list[str] = field(default_factory=list)
    conventions: tuple[str, ...] = CONVENTIONS

    def to_pandas(self) -> Any:
        """One row per metric: P, R and the headline value (F1 or accuracy), with the metric's family."""
        import pandas as pd

        return pd.DataFrame([{"metric": name, "family": m.family, "p": m.values.get("p"), "r": m.values.get("r"),
                              "value": m.values[m.headline], "headline": m.headline, "description": m.description}
                             for name, m in self.metrics.items()])

    def to_dict(self, per_document: bool = False) -> dict[str, Any]:
        """Machine-readable form for ``--json`` and reports."""
        return {
            "documents": len(self.doc_ids),
            "notes": self.notes,
            "ed_exclusion_rule": linking.EXCLUSION_RULE,
            "conventions": list(self.conventions),
            "metrics": {name: m.to_dict(per_document) for name, m in self.metrics.items()},
            **({"doc_ids": self.doc_ids} if per_document else {}),
        }


def aggregate_for(name: str) -> tuple[Callable[[np.ndarray], dict[str, np.ndarray]], str]:
    """The aggregate function and headline value of a metric by name (micro metrics of classed ones: P/R/F1)."""
    for metric in all_metrics(frozenset()):
        if metric.name == name:
            return (prf, "f1") if isinstance(metric, ClassedMetric) else (metric.aggregate, metric.headline)
    raise PredictionError(f"no metric called {name!r}")


def select_metrics(metrics: Sequence[Metric | ClassedMetric], requested: Iterable[str] | None) -> list:
    """The metrics named by ``requested`` (metric names or family names); all when None."""
    if not requested:
        return list(metrics)
    wanted = [r.strip() for r in requested if r.strip()]
    known = {m.name for m in metrics} | set(FAMILIES)
    unknown = [w for w in wanted if w.removesuffix(".macro") not in known]
    if unknown:
        names = ", ".join(sorted({m.name for m in metrics}))
        raise PredictionError(f"unknown metric(s) {unknown}; choose from families {', '.join(FAMILIES)} "
                              f"or metrics {names}")
    stripped = {w.removesuffix(".macro") for w in wanted}
    return [m for m in metrics if m.name in stripped or m.family in stripped]


def _check_prediction(pred: Document, gold: Document, index: int, file: str | None, lenient: bool,
                      problems: list[str]) -> Document:
    """Spans must lie in the gold document and relations must point at predicted entities.

    With ``lenient`` a relation to a missing entity is kept, pointed at an empty entity that matches
    nothing (one per missing index, so that distinct wrong facts stay distinct), and reported.
    """
    def complain(field_name: str, message: str) -> None:
        error = PredictionError(message, file=file, doc_index=index, doc_title=pred.title, field=field_name)
        if not lenient:
            raise error
        problems.append(f"{error} (counted as wrong)")

    # spans of text documents, unless they are the gold's own (a DocRED submission), which loading checked
    if gold.has_text and pred.entities is not gold.entities:
        lengths = [len(sentence) for sentence in gold.sentences]
        for e, entity in enumerate(pred.entities):
            for i, m in enumerate(entity.mentions):
                if not 0 <= m.sent < len(lengths) or not 0 <= m.start < m.end <= lengths[m.sent]:
                    complain(f"entities[{e}].mentions[{i}]",
                             f"a span inside the gold document, found sentence {m.sent} tokens [{m.start}, {m.end})")
    n = len(pred.entities)
    missing = sorted({i for r in pred.relations for i in (r.head, r.tail) if not 0 <= i < n}, key=repr)
    if not missing:
        return pred
    for i, r in enumerate(pred.relations):
        if not (0 <= r.head < n and 0 <= r.tail < n):
            complain(f"relations[{i}]", f"head and tail indices of entities (0..{n - 1}), found {r.head} and "
                                        f"{r.tail} (--lenient counts such facts as wrong)")
    placeholder = {index: n + k for k, index in enumerate(missing)}
    fixed = tuple(replace(r, head=placeholder.get(r.head, r.head), tail=placeholder.get(r.tail, r.tail))
                  for r in pred.relations)
    return replace(pred, entities=(*pred.entities, *(Entity(mentions=()) for _ in missing)), relations=fixed)


def align(gold: Sequence[Document], pred: Sequence[Document], *, file: str | None = None, lenient: bool = False,
          ) -> tuple[list[tuple[Document, Document]], list[str]]:
    """Pair every gold document with its prediction (an empty one if missing); check predictions.

    Unknown predicted ids are an error, or with ``lenient`` scored against an empty gold document
    marked :data:`UNKNOWN_DOCUMENT` (so that all their predictions count as wrong) and reported.
    """
    notes: list[str] = []
    by_id: dict[str, tuple[int, Document]] = {}
    for i, doc in enumerate(pred):
        if doc.id in by_id:
            raise PredictionError(f"document id {doc.id!r} predicted twice (also document {by_id[doc.id][0]})",
                                  file=file, doc_index=i, doc_title=doc.title, field="id")
        by_id[doc.id] = (i, doc)
    gold_ids = {d.id for d in gold}
    unknown = [(i, d) for i, d in enumerate(pred) if d.id not in gold_ids]
    if unknown and not lenient:
        i, d = unknown[0]
        raise PredictionError(f"document id {d.id!r} is not in the gold data ({len(unknown)} such documents; "
                              "--lenient counts their predictions as wrong)", file=file, doc_index=i,
                              doc_title=d.title, field="id")
    pairs, missing, problems = [], [], []
    for g in gold:
        if g.id in by_id:
            index, p = by_id[g.id]
            pairs.append((g, _check_prediction(p, g, index, file, lenient, problems)))
        else:
            missing.append(g.id)
            pairs.append((g, replace(g, entities=(), relations=())))
    if missing:
        shown = ", ".join(map(repr, missing[:10])) + (f" and {len(missing) - 10} more" if len(missing) > 10 else "")
        notes.append(f"{len(missing)} gold document(s) have no prediction: scored as empty predictions ({shown})")
    for i, d in unknown:
        notes.append(f"predicted document {d.id!r} is not in the gold data: its predictions count as wrong")
        empty = replace(d, entities=(), relations=(), meta={UNKNOWN_DOCUMENT: True})
        pairs.append((empty, _check_prediction(d, empty, i, file, lenient, [])))
    if problems:
        notes.append(f"{len(problems)} bad prediction(s) counted as wrong:")
        notes += problems
    return pairs, notes


def uses_gold_entities(pairs: Sequence[tuple[Document, Document]]) -> bool:
    """Whether every prediction keeps the gold entities (the DocRED protocol's precondition).

    Empty entities after the gold ones (where ``--lenient`` points relations to missing entities)
    do not count as a change.
    """
    for g, p in pairs:
        if p.entities is g.entities:  # a DocRED submission is put on the gold's own entities
            continue
        n = len(g.entities)
        if len(p.entities) < n or any(e.mentions for e in p.entities[n:]):
            return False
        if any(ge.spans != pe.spans for ge, pe in zip(g.entities, p.entities[:n], strict=True)):
            return False
    return True


def _classed_results(metric: ClassedMetric, doc_pairs: Sequence[DocPair]) -> list[MetricResult]:
    per_doc = [metric.counts_by_class(p) for p in doc_pairs]
    classes = tuple(sorted({c for counts in per_doc for c in counts}))
    matrix = np.zeros((len(doc_pairs), max(len(classes), 1), 4))
    position = {c: i for i, c in enumerate(classes)}
    for d, counts in enumerate(per_doc):
        for c, values in counts.items():
            matrix[d, position[c]] = values
    n = max(len(classes), 1)
    common = {"version": metric.version, "family": metric.family, "count_names": PRF_COUNT_NAMES}
    micro = MetricResult(metric.name, description=metric.description, counts=matrix.sum(axis=1), aggregate=prf,
                         **common)
    macro = MetricResult(f"{metric.name}.macro", description=f"{metric.description} (macro over classes)",
                         counts=matrix.reshape(len(doc_pairs), -1), aggregate=lambda t: macro_prf(t, n),
                         classes=classes, **{**common, "count_names": class_count_names(classes)})
    return [micro, macro]


def score_pairs(pairs: Sequence[tuple[Document, Document]] | Sequence[DocPair],
                metrics: Sequence[Metric | ClassedMetric]) -> dict[str, MetricResult]:
    """Per-document counts and aggregates of every metric over aligned (gold, prediction) pairs."""
    doc_pairs = [p if isinstance(p, DocPair) else DocPair(*p) for p in pairs]
    out: dict[str, MetricResult] = {}
    with paused_gc():
        for metric in metrics:
            out.update(_metric_results(metric, doc_pairs))
    return out


def _metric_results(metric: Metric | ClassedMetric, doc_pairs: Sequence[DocPair]) -> dict[str, MetricResult]:
    if isinstance(metric, ClassedMetric):
        return {result.name: result for result in _classed_results(metric, doc_pairs)}
    size = len(metric.count_names)
    counts = [metric.counts(p) for p in doc_pairs]
    try:  # one conversion for all documents; row by row (which names the bad length) only if that fails
        matrix = np.array(counts, dtype=float)
    except ValueError:  # rows of different lengths
        matrix = None
    if matrix is None or matrix.shape != (len(doc_pairs), size):
        matrix = np.array([as_vector(c, size) for c in counts]).reshape(len(doc_pairs), size)
    return {metric.name: MetricResult(metric.name, metric.version, metric.description, metric.family,
                                      metric.count_names, matrix, metric.aggregate, metric.headline)}


def score_documents(
    gold: Sequence[Document],
    pred: Sequence[Document],
    *,
    metrics: Iterable[str] | None = None,
    train: Sequence[Document] | relations.TrainFacts | None = None,
    lenient: bool = False,
    pred_file: str | None = None,
) -> ScoreResult:
    """Score predictions against gold on every (or the requested) metric.

    DocRED-protocol metrics need the prediction to keep the gold entities; when it does not they
    are left out with a note (or, if asked for by name, an error). ``train`` (training documents, or their
    facts from :func:`rexel_bench.scoring.io.read_train_facts`) enables Ign F1.
    """
    with paused_gc():
        return _score_documents(gold, pred, metrics, train, lenient, pred_file)


def _score_documents(gold: Sequence[Document], pred: Sequence[Document], metrics: Iterable[str] | None,
                     train: Sequence[Document] | relations.TrainFacts | None, lenient: bool, pred_file: str | None
                     ) -> ScoreResult:
    pairs, notes = align(gold, pred, file=pred_file, lenient=lenient)
    facts = train if isinstance(train, frozenset) or train is None else relations.train_facts(train)
    chosen = select_metrics(all_metrics(facts), metrics)
    if pred and all(d.meta.get("format") == "linked-triples" for d in pred):
        chosen = [m for m in chosen if m.name == "e2e_linked"]
        notes.append("predictions are linked triples (facts between QIDs, no mentions): only linked facts are "
                     "scored (e2e_linked)")
    if any(m.family == "docred" for m in chosen) and not uses_gold_entities(pairs):
        if metrics and "docred" in {m.strip() for m in metrics}:
            raise PredictionError("DocRED-protocol metrics need predictions on the gold entities; these predictions "
                                  "change the entities (use the end-to-end metrics)", file=pred_file)
        chosen = [m for m in chosen if m.family != "docred"]
        notes.append("DocRED-protocol metrics skipped: the predictions do not keep the gold entities")
    elif train is None and any(m.family == "docred" for m in chosen):
        notes.append("Ign F1 not computed: give the training file (--train) whose facts it ignores")
    chosen, skipped = applicable(chosen, gold, [p for _, p in pairs])
    notes += skipped
    doc_pairs = [DocPair(g, p) for g, p in pairs]
    results = score_pairs(doc_pairs, chosen)
    return ScoreResult([g.id for g, _ in pairs], results, notes + _repeat_notes(doc_pairs),
                       conventions_for(m.family for m in results.values()))


def applicable(metrics: Sequence[Metric | ClassedMetric], gold: Sequence[Document], pred: Sequence[Document],
               ) -> tuple[list[Metric | ClassedMetric], list[str]]:
    """Leave out metrics whose annotation is absent (linking without gold QIDs, fine types, evidence), saying so.

    Evidence F1 needs gold evidence and predicted evidence, as DocRED scores it only for systems that
    predict evidence.
    """
    has = {
        "qids": any(e.qid for d in gold for e in d.entities),
        "fine_types": any(m.fine_types or e.fine_types for d in gold for e in d.entities for m in e.mentions),
        "evidence": any(r.evidence for d in gold for r in d.relations)
        and any(r.evidence is not None for d in pred for r in d.relations),
    }
    kept = [m for m in metrics if m.requires is None or has[m.requires]]
    where = {"qids": "gold QIDs", "fine_types": "gold fine types", "evidence": "gold and predicted evidence"}
    notes = [f"{m.name} not computed: it needs {where[m.requires]}, which the data lacks"
             for m in metrics if m.requires is not None and not has[m.requires]]
    return kept, notes


def _repeat_notes(pairs: Sequence[DocPair]) -> list[str]:
    notes = []
    repeats = [p.duplicates for p in pairs]
    gold_repeats = sum(r["gold"] for r in repeats)
    pred_repeats = sum(r["pred"] for r in repeats)
    if gold_repeats or pred_repeats:
        notes.append(f"repeated mentions (a span listed twice in a document): {gold_repeats} gold, {pred_repeats} "
                     "predicted; coreference treats them as the CoNLL scorer v8.01 does, so even a perfect system "
                     "does not score 100 on coreference here (the reference scorer gives the same numbers; "
                     "rexel-bench validate names the spans); the other metrics treat them as their references do")
    duplicated_facts = sum(len(p.pred.relations) - len({(r.head, r.tail, r.label) for r in p.pred.relations})
                           for p in pairs)
    if duplicated_facts:
        notes.append(f"{duplicated_facts} repeated predicted fact(s): counted once in DocRED and hard end-to-end "
                     "scores (as the official script and JEREX), once per copy in the soft score (as Linked-DocRED)")
    return notes

