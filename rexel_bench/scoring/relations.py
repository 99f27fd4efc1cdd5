"""Relation extraction: the DocRED protocol on gold entities, and end-to-end scores on predicted ones.

**DocRED protocol** (``re``, ``re_ign``, ``re_evidence``), exactly as DocRED's official
``evaluation.py`` defines them:
- gold facts are the distinct ``(head, tail, relation)`` of the document;
- every predicted fact counts in the precision denominator, duplicates included (the official script
  does not de-duplicate; the scoring API reports duplicates);
- Ign F1: a correct fact is "in train" when some (head mention name, tail mention name, relation)
  of it occurs among the training file's facts; precision becomes
  ``(correct - correct_in_train) / (predicted - correct_in_train)``, recall is unchanged;
- evidence: predicted evidence sentences of correct facts that are gold evidence, over all predicted
  evidence sentences (precision) and all gold evidence sentences of all gold labels (recall).

**End to end**, on predicted entities, each fact set de-duplicated:
- ``e2e_hard``: a fact is correct only if its head and tail clusters equal gold clusters (every
  mention) and the relation matches — JEREX "strict" / DWIE "hard"; ``e2e_hard_typed`` also needs
  both entity types to match;
- ``e2e_soft``: Linked-DocRED's entity-centric relation F1 (soft aggregation): a predicted fact earns
  the share of its (head mention, tail mention) pairs, with entity types, that are gold pairs of the
  same relation; recall symmetrically; facts are not de-duplicated, as in the reference;
- ``e2e_linked``: ``(head QID, relation, tail QID)`` triples after de-duplication — the headline number
  for closed IE. A fact whose head or tail has no QID is not a linked fact (numbers, dates, NIL).
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping

from rexel_bench.data.model import Document
from rexel_bench.scoring.base import ClassedMetric, DocPair, Metric, Span, set_counts

Fact = tuple[int, int, str]


def train_facts(train_docs: Iterable[Document]) -> frozenset[tuple[str, str, str]]:
    """(head mention name, tail mention name, relation) of every fact of a training set, for Ign F1."""
    out = set()
    for doc in train_docs:
        for rel in doc.relations:
            for h in doc.entities[rel.head].mentions:
                for t in doc.entities[rel.tail].mentions:
                    out.add((h.text, t.text, rel.label))
    return frozenset(out)


def _in_train(doc: Document, fact: Fact, facts: frozenset[tuple[str, str, str]]) -> bool:
    head, tail, label = fact
    return any((h.text, t.text, label) in facts
               for h in doc.entities[head].mentions for t in doc.entities[tail].mentions)


def docred_counts(pair: DocPair, train: frozenset[tuple[str, str, str]] = frozenset()) -> tuple[int, ...]:
    """(correct, predicted, gold, correct_in_train, evidence_correct, evidence_predicted, evidence_gold)."""
    gold: dict[Fact, set[int]] = {}
    evidence_gold = 0
    for rel in pair.gold.relations:
        gold[(rel.head, rel.tail, rel.label)] = set(rel.evidence or ())
        evidence_gold += len(rel.evidence or ())
    correct = in_train = evidence_correct = evidence_pred = 0
    for rel in pair.pred.relations:
        fact = (rel.head, rel.tail, rel.label)
        predicted_evidence = set(rel.evidence or ())
        evidence_pred += len(predicted_evidence)
        if fact in gold:
            correct += 1
            evidence_correct += len(gold[fact] & predicted_evidence)
            in_train += bool(train) and _in_train(pair.gold, fact, train)
    return (correct, len(pair.pred.relations), len(gold), in_train, evidence_correct, evidence_pred,
            evidence_gold)


def re_ign_prf(counts: tuple[int, ...]) -> tuple[int, int, int, int]:
    """DocRED Ign F1 counts: facts seen in training leave precision's numerator and denominator."""
    correct, predicted, gold, in_train = counts[:4]
    return correct - in_train, predicted - in_train, correct, gold


def evidence_prf(counts: tuple[int, ...]) -> tuple[int, int, int, int]:
    """DocRED evidence F1 counts."""
    return counts[4], counts[5], counts[4], counts[6]


def _cluster_facts(doc: Document, clusters: list[list[Span]], typed: bool) -> set[tuple]:
    out = set()
    for rel in doc.relations:
        head, tail = doc.entities[rel.head], doc.entities[rel.tail]
        fact: tuple = (frozenset(clusters[rel.head]), frozenset(clusters[rel.tail]), rel.label)
        out.add((*fact, head.type, tail.type) if typed else fact)
    return out


def _by_label(facts: set[tuple]) -> dict[str, set[tuple]]:
    out: dict[str, set[tuple]] = defaultdict(set)
    for fact in facts:
        out[fact[2]].add(fact)
    return out


def _classed_set_counts(pred: set[tuple], gold: set[tuple]) -> dict[str, tuple[int, int, int, int]]:
    pred_by, gold_by = _by_label(pred), _by_label(gold)
    return {label: set_counts(pred_by.get(label, set()), gold_by.get(label, set()))
            for label in set(pred_by) | set(gold_by)}


def hard_counts_by_relation(pair: DocPair, typed: bool = False) -> dict[str, tuple[int, int, int, int]]:
    """End-to-end hard (strict) matching counts per relation."""
    return _classed_set_counts(_cluster_facts(pair.pred, pair.pred_clusters, typed),
                               _cluster_facts(pair.gold, pair.gold_clusters, typed))


def _mention_pairs(doc: Document, clusters: list[list[Span]], head: int, tail: int) -> list[tuple]:
    h_type, t_type = doc.entities[head].type, doc.entities[tail].type
    return [(h, h_type, t, t_type) for h in clusters[head] for t in clusters[tail]]


def soft_counts(pair: DocPair) -> tuple[float, int, float, int]:
    """Linked-DocRED entity-centric soft relation counts: (tp_p, predicted, tp_g, gold)."""
    def side(doc: Document, clusters: list[list[Span]], other: Mapping[str, set[tuple]]) -> float:
        credit = 0.0
        for rel in doc.relations:
            pairs = _mention_pairs(doc, clusters, rel.head, rel.tail)
            if pairs:
                found = other.get(rel.label, set())
                credit += sum(p in found for p in pairs) / len(pairs)
        return credit

    def all_pairs(doc: Document, clusters: list[list[Span]]) -> dict[str, set[tuple]]:
        out: dict[str, set[tuple]] = defaultdict(set)
        for rel in doc.relations:
            out[rel.label].update(_mention_pairs(doc, clusters, rel.head, rel.tail))
        return out

    gold_pairs = all_pairs(pair.gold, pair.gold_clusters)
    pred_pairs = all_pairs(pair.pred, pair.pred_clusters)
    return (side(pair.pred, pair.pred_clusters, gold_pairs), len(pair.pred.relations),
            side(pair.gold, pair.gold_clusters, pred_pairs), len(pair.gold.relations))


def linked_facts(doc: Document) -> tuple[set[tuple[str, str, str]], int]:
    """De-duplicated (head QID, relation, tail QID) triples, and how many facts lacked a QID."""
    facts, unlinked = set(), 0
    for rel in doc.relations:
        head, tail = doc.entities[rel.head].qid, doc.entities[rel.tail].qid
        if head is None or tail is None:
            unlinked += 1
        else:
            facts.add((head, rel.label, tail))
    return facts, unlinked


def linked_counts_by_relation(pair: DocPair) -> dict[str, tuple[int, int, int, int]]:
    """Linked-fact counts per relation."""
    # (head, tail, label) order: _classed_set_counts reads the label at index 2
    pred = {(h, t, r) for h, r, t in linked_facts(pair.pred)[0]}
    gold = {(h, t, r) for h, r, t in linked_facts(pair.gold)[0]}
    return _classed_set_counts(pred, gold)


def docred_relation_counts(pair: DocPair) -> dict[str, tuple[int, int, int, int]]:
    """DocRED RE counts per relation (duplicates of predictions counted, as the official script)."""
    gold = {(r.head, r.tail, r.label) for r in pair.gold.relations}
    predicted = Counter(r.label for r in pair.pred.relations)
    correct = Counter(r.label for r in pair.pred.relations if (r.head, r.tail, r.label) in gold)
    gold_by = Counter(label for _, _, label in gold)
    return {label: (correct[label], predicted[label], correct[label], gold_by[label])
            for label in set(predicted) | set(gold_by)}


E2E_HARD = ClassedMetric("e2e_hard", "1", "End-to-end RE, hard: exact head/tail clusters and relation",
                         hard_counts_by_relation, family="end-to-end")
E2E_HARD_TYPED = ClassedMetric("e2e_hard_typed", "1",
                               "End-to-end RE, hard and typed: exact clusters, entity types and relation",
                               lambda pair: hard_counts_by_relation(pair, typed=True), family="end-to-end")
E2E_SOFT = Metric("e2e_soft", "1", "End-to-end RE, soft: Linked-DocRED entity-centric mention-pair credit",
                  ("p_num", "p_den", "r_num", "r_den"), soft_counts, family="end-to-end")
E2E_LINKED = ClassedMetric("e2e_linked", "1",
                           "End-to-end linked facts: de-duplicated (head QID, relation, tail QID) triples",
                           linked_counts_by_relation, family="end-to-end", requires="qids")
DOCRED_RE_BY_RELATION = ClassedMetric("docred_re", "1", "DocRED RE F1 on gold entities (official evaluation)",
                                      docred_relation_counts, family="docred")
