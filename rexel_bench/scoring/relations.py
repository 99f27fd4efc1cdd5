"""Relation extraction: the DocRED protocol on gold entities, and end-to-end scores on predicted ones.

**DocRED protocol** (``re``, ``re_ign``, ``re_evidence``), as the current official ``evaluation.py``
(thunlp/DocRED) defines them:
- gold facts are the distinct ``(head, tail, relation)`` of the document;
- a fact submitted twice counts once (the official script removes repeated submissions); where the
  copies carry different evidence the smallest evidence list is kept (the script keeps the first
  listed: this keeps the score independent of order);
- facts of a document that is not in the gold data count in precision as wrong and their evidence is
  not counted; facts whose head or tail index is not an entity of the document are wrong;
- Ign F1: a correct fact is "in train" when some (head mention name, tail mention name, relation)
  of it occurs among the training file's facts; precision becomes
  ``(correct - correct_in_train) / (predicted - correct_in_train)``, recall is unchanged;
- evidence: predicted evidence sentences of correct facts that are gold evidence, over all predicted
  evidence sentences (precision) and all gold evidence sentences of all gold labels (recall).
- where the official script divides by zero (no submission) the score is 0.

**End to end**, on predicted entities:
- ``e2e_hard``: a fact is correct only if its head and tail mention sets equal gold ones (every
  mention) and the relation matches — JEREX "strict" (``lavis-nlp/jerex``, ``evaluation/scoring.py``):
  each entity is the set of its own mention spans, so a span listed in two entities belongs to both,
  and facts are compared as sets; ``e2e_hard_typed`` also needs both entity types to match;
- ``e2e_soft``: Linked-DocRED's entity-centric relation F1 (``metrics/relation_f1.py``, soft
  aggregation): a predicted fact earns the share of its (head mention, tail mention) pairs, with
  entity types, that are gold pairs of the same relation; recall symmetrically. Every mention copy
  is a pair (a repeated mention counts once per copy) and facts are not de-duplicated, as in the
  reference; where the reference divides by zero (no prediction) the score is 0;
- ``e2e_linked``: ``(head QID, relation, tail QID)`` triples after de-duplication — the headline number
  for closed IE. A fact whose head or tail has no QID is not a linked fact (numbers, dates, NIL).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable, Mapping

from rexel_bench.data.model import Document
from rexel_bench.scoring.base import ClassedMetric, DocPair, Metric, set_counts_by_class

Fact = tuple[int, int, str]
#: What Ign F1 ignores: (head mention name, tail mention name, relation) of every training fact.
TrainFacts = frozenset[tuple[str, str, str]]


def train_facts(train_docs: Iterable[Document]) -> TrainFacts:
    """(head mention name, tail mention name, relation) of every fact of a training set, for Ign F1."""
    out: set[tuple[str, str, str]] = set()
    for doc in train_docs:
        names = [{m.text for m in e.mentions} for e in doc.entities]
        for rel in doc.relations:
            out.update((h, t, rel.label) for h in names[rel.head] for t in names[rel.tail])
    return frozenset(out)


def _in_train(doc: Document, fact: Fact, facts: frozenset[tuple[str, str, str]]) -> bool:
    head, tail, label = fact
    return any((h.text, t.text, label) in facts
               for h in doc.entities[head].mentions for t in doc.entities[tail].mentions)


def unique_facts(doc: Document) -> dict[Fact, frozenset[int] | None]:
    """Each distinct (head, tail, relation) of a document with its evidence, repeats removed.

    The official script drops repeated submissions, keeping the first listed; where two copies carry
    different evidence, the smallest evidence (sorted) is kept instead, so that the score does not
    depend on the order of facts.
    """
    out: dict[Fact, frozenset[int] | None] = {}
    for rel in doc.relations:
        fact = (rel.head, rel.tail, rel.label)
        evidence = frozenset(rel.evidence) if rel.evidence is not None else None
        if fact not in out or _evidence_key(evidence) < _evidence_key(out[fact]):
            out[fact] = evidence
    return out


def _evidence_key(evidence: frozenset[int] | None) -> tuple[int, ...]:
    return tuple(sorted(evidence or ()))


def docred_counts(pair: DocPair, train: frozenset[tuple[str, str, str]] = frozenset()) -> tuple[int, ...]:
    """(correct, predicted, gold, correct_in_train, evidence_correct, evidence_predicted, evidence_gold).

    Predicted facts of a document that is not in the gold data (``pair.gold_known`` false) count in
    the precision denominator as wrong, and their evidence is not counted, as the official script does.
    """
    gold: dict[Fact, set[int]] = {}
    evidence_gold = 0
    for rel in pair.gold.relations:
        gold[(rel.head, rel.tail, rel.label)] = set(rel.evidence or ())
        evidence_gold += len(rel.evidence or ())
    predicted = pair.memo("unique_facts", lambda p: unique_facts(p.pred))
    if not pair.gold_known:
        return 0, len(predicted), len(gold), 0, 0, 0, evidence_gold
    correct = in_train = evidence_correct = evidence_pred = 0
    for fact, evidence in predicted.items():
        evidence_pred += len(evidence or ())
        if fact in gold:
            correct += 1
            evidence_correct += len(gold[fact] & (evidence or frozenset()))
            in_train += bool(train) and _in_train(pair.gold, fact, train)
    return correct, len(predicted), len(gold), in_train, evidence_correct, evidence_pred, evidence_gold


def re_ign_prf(counts: tuple[int, ...]) -> tuple[int, int, int, int]:
    """DocRED Ign F1 counts: facts seen in training leave precision's numerator and denominator."""
    correct, predicted, gold, in_train = counts[:4]
    return correct - in_train, predicted - in_train, correct, gold


def evidence_prf(counts: tuple[int, ...]) -> tuple[int, int, int, int]:
    """DocRED evidence F1 counts."""
    return counts[4], counts[5], counts[4], counts[6]


def _cluster_facts(doc: Document, typed: bool) -> set[tuple]:
    """Facts as (head spans, tail spans, relation[, head type, tail type]): each entity is the set of
    its own mention spans, as in JEREX's strict scoring (a span may belong to two entities)."""
    out = set()
    for rel in doc.relations:
        head, tail = doc.entities[rel.head], doc.entities[rel.tail]
        fact: tuple = (head.spans, tail.spans, rel.label)
        out.add((*fact, head.type, tail.type) if typed else fact)
    return out


def hard_counts_by_relation(pair: DocPair, typed: bool = False) -> dict[str, tuple[int, int, int, int]]:
    """End-to-end hard (strict) matching counts per relation."""
    return set_counts_by_class(_cluster_facts(pair.pred, typed), _cluster_facts(pair.gold, typed))


def fact_mention_pairs(doc: Document) -> list[tuple[str, list[tuple]]]:
    """Each fact's relation and its (head span, head type, tail span, tail type) for every pair of the two
    entities' mentions, a repeated mention counted once per copy (Linked-DocRED's
    ``generate_relation_mentions``)."""
    typed = [[(m.span, e.type) for m in e.mentions] for e in doc.entities]
    return [(rel.label, [h + t for h in typed[rel.head] for t in typed[rel.tail]]) for rel in doc.relations]


def _soft_credit(facts: list[tuple[str, list[tuple]]], other: Mapping[str, set[tuple]]) -> float:
    """Sum over the facts of one side of the share of their mention pairs found on the other side."""
    credit = 0.0
    for label, pairs in facts:
        found = other.get(label)
        if found and pairs:
            credit += sum(map(found.__contains__, pairs)) / len(pairs)
    return credit


def _pairs_by_label(facts: list[tuple[str, list[tuple]]]) -> dict[str, set[tuple]]:
    out: dict[str, set[tuple]] = defaultdict(set)
    for label, pairs in facts:
        out[label].update(pairs)
    return out


def soft_counts(pair: DocPair) -> tuple[float, int, float, int]:
    """Linked-DocRED entity-centric soft relation counts: (tp_p, predicted, tp_g, gold)."""
    pred, gold = fact_mention_pairs(pair.pred), fact_mention_pairs(pair.gold)
    return _soft_credit(pred, _pairs_by_label(gold)), len(pred), _soft_credit(gold, _pairs_by_label(pred)), len(gold)


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
    # (head, tail, label) order: the label at index 2, as set_counts_by_class reads it
    pred = {(h, t, r) for h, r, t in linked_facts(pair.pred)[0]}
    gold = {(h, t, r) for h, r, t in linked_facts(pair.gold)[0]}
    return set_counts_by_class(pred, gold)


def docred_relation_counts(pair: DocPair) -> dict[str, tuple[int, int, int, int]]:
    """DocRED RE counts per relation (repeated predictions counted once, as the official script)."""
    gold = {(r.head, r.tail, r.label) for r in pair.gold.relations} if pair.gold_known else set()
    return set_counts_by_class(set(pair.memo("unique_facts", lambda p: unique_facts(p.pred))), gold)


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
