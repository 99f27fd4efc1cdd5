"""Scorers equal their references on repeated spans, repeated facts and ties, and never depend on order.

References restated here as plain-Python oracles, from each reference's own definition:
- coreference: the CoNLL-2012 scorer v8.01 (``conll_v801``, itself checked against the Perl scorer);
- ``e2e_hard``: JEREX strict relation scoring (lavis-nlp/jerex ``evaluation/scoring.py`` with
  ``conversion.convert_gt_cluster``): an entity is the set of its own mention spans, facts are
  (head set, tail set, relation), and predictions and gold are compared as de-duplicated lists;
- ``e2e_soft``: Linked-DocRED ``metrics/relation_f1.py`` with soft aggregation: every (head mention,
  tail mention) pair of a fact, one per mention copy, compared with the other side's pairs of the
  same relation, entity types included.
"""

from __future__ import annotations

import json
import random
from dataclasses import replace

import numpy as np
import pytest

from rexel_bench.data import io as data_io
from rexel_bench.data.model import Document, Entity, Mention, Relation
from rexel_bench.data.registry import resolve
from rexel_bench.scoring import coref, relations
from rexel_bench.scoring.api import score_documents
from rexel_bench.scoring.base import DocPair, canonical_order

from . import conll_v801
from .helpers import clusters, doc

# ---------------------------------------------------------------- random documents with repeats


def random_gold(rng: random.Random, doc_id: str = "d") -> Document:
    """A one-sentence document whose entities may repeat a span, inside one entity or across two."""
    n_tokens = 14
    entities = []
    for _ in range(rng.randint(1, 6)):
        spans = [(0, t, t + 1) for t in (rng.randrange(n_tokens) for _ in range(rng.randint(1, 4)))]
        entities.append(Entity(mentions=tuple(Mention(*s, text=f"t{s[1]}") for s in spans),
                               type=rng.choice("AB"), qid=rng.choice(["Q1", "Q2", "Q3", None])))
    facts = [Relation(rng.randrange(len(entities)), rng.randrange(len(entities)), rng.choice(["P1", "P2"]),
                      evidence=()) for _ in range(rng.randint(0, 5))]
    facts += rng.sample(facts, k=min(len(facts), rng.randint(0, 2)))  # repeated facts
    return Document(id=doc_id, title=doc_id, sentences=(tuple("abcdefghijklmn"),), entities=tuple(entities),
                    relations=tuple(facts))


def shuffled(document: Document, rng: random.Random) -> Document:
    """The same document with mentions, entities and facts listed in another order."""
    order = list(range(len(document.entities)))
    rng.shuffle(order)
    where = {old: new for new, old in enumerate(order)}
    entities = tuple(replace(document.entities[old], mentions=tuple(rng.sample(document.entities[old].mentions,
                                                                               k=len(document.entities[old].mentions))))
                     for old in order)
    facts = [replace(r, head=where[r.head], tail=where[r.tail]) for r in document.relations]
    rng.shuffle(facts)
    return replace(document, entities=entities, relations=tuple(facts))


def spans_of(document: Document) -> list[list[tuple[int, int, int]]]:
    return [[m.span for m in e.mentions] for e in document.entities]


# ---------------------------------------------------------------- coreference (item 5)


def _library_counts(key, response) -> dict[str, tuple]:
    chains = coref.conll_chains(key, response)
    def prf(c: tuple) -> tuple:  # library (p_num, p_den, r_num, r_den) → oracle (r_num, r_den, p_num, p_den)
        return c[2], c[3], c[0], c[1]
    return {"muc": prf(coref.muc_counts_of(chains)), "b3": prf(coref.b3_counts_of(chains)),
            "ceafm": prf(coref.ceafm_counts_of(chains)), "ceafe": prf(coref.ceafe_counts_of(chains)),
            "blanc": coref.blanc_counts_of(chains), "lea": prf(coref.lea_counts_of(chains))}


def test_repeated_response_mention_not_in_the_key_stays():
    """Key {A,B}, response {A,B,C,C}; v8.01 (run on CoNLL files): MUC F1 50.00, B³ F1 40.00, CEAFm 66.66,
    CEAFe 66.66, BLANC 40.00, LEA 28.57 (rexel-bench gave MUC 66.67 and B³ 61.54 before)."""
    result = score_documents([doc(clusters("{ab}"))], [doc(clusters("{abcC}"))], metrics=["coreference"])
    f1 = {name: round(100 * result.metrics[f"coref_{name}"].values["f1"], 2)
          for name in ("muc", "b3", "ceafm", "ceafe", "blanc", "lea")}
    assert f1 == {"muc": 50.0, "b3": 40.0, "ceafm": 66.67, "ceafe": 66.67, "blanc": 40.0, "lea": 28.57}


def test_repeated_key_mention_stays_in_the_key():
    """Key {A,A,B}, response {A,B}; v8.01: MUC R 1/2 P 1/1, B³ R 1.3333/3, CEAFm P 3/2 (150%: v8.01 counts
    the key copy in the overlap), BLANC F1 66.66, LEA 100."""
    result = score_documents([doc(clusters("{aAb}"))], [doc(clusters("{ab}"))], metrics=["coreference"])
    totals = {name: result.metrics[f"coref_{name}"].to_dict()["totals"] for name in ("muc", "b3", "ceafm")}
    assert totals["muc"] == {"p_num": 1, "p_den": 1, "r_num": 1, "r_den": 2}
    assert totals["b3"]["r_num"] == pytest.approx(4 / 3) and totals["b3"]["r_den"] == 3
    assert totals["ceafm"] == {"p_num": 3, "p_den": 2, "r_num": 3, "r_den": 3}
    assert round(100 * result.metrics["coref_blanc"].values["f1"], 2) == 66.67
    assert result.metrics["coref_lea"].values["f1"] == 1.0


@pytest.mark.parametrize("seed", range(3))
def test_coreference_equals_v801_on_random_documents_with_repeats(seed):
    rng = random.Random(seed)
    for _ in range(300):
        key, response = spans_of(random_gold(rng)), spans_of(random_gold(rng))
        expected = conll_v801.counts(canonical_order(key), canonical_order(response))
        got = _library_counts(key, response)
        for name, values in expected.items():
            assert got[name] == pytest.approx(values, abs=1e-12), (name, key, response)


@pytest.mark.parametrize("seed", range(2))
def test_without_cross_entity_repeats_v801_does_not_depend_on_order_and_neither_do_we(seed):
    rng = random.Random(100 + seed)
    checked = 0
    while checked < 200:
        key, response = spans_of(random_gold(rng)), spans_of(random_gold(rng))
        if any(len({i for i, e in enumerate(side) if s in e}) > 1 for side in (key, response) for e in side
               for s in e):
            continue
        expected = conll_v801.counts(key, response)  # the order given, as v8.01 reads it
        got = _library_counts(key, response)
        for name, values in expected.items():
            assert got[name] == pytest.approx(values, abs=1e-12), (name, key, response)
        checked += 1


# ---------------------------------------------------------------- end to end (items 6, 7)


def jerex_strict(gold: Document, pred: Document) -> tuple[int, int, int]:
    """(true positives, predicted, gold) as JEREX's ``score`` counts relation tuples."""
    def facts(document: Document) -> list:
        return [(frozenset(m.span for m in document.entities[r.head].mentions),
                 frozenset(m.span for m in document.entities[r.tail].mentions), r.label)
                for r in document.relations]
    g, p = facts(gold), facts(pred)
    union = []
    for fact in g + p:
        if fact not in union:
            union.append(fact)
    return sum(f in g and f in p for f in union), sum(f in p for f in union), sum(f in g for f in union)


def linked_docred_soft(gold: Document, pred: Document) -> tuple[float, int, float, int]:
    """(tp_p, predicted facts, tp_g, gold facts) as Linked-DocRED's ``relation_f1`` (soft) sums them."""
    def mention_pairs(document: Document, r: Relation) -> list:
        h, t = document.entities[r.head], document.entities[r.tail]
        return [(hm.sent, hm.start, hm.end, h.type, tm.sent, tm.start, tm.end, t.type)
                for hm in h.mentions for tm in t.mentions]
    def side(document: Document, other: Document) -> float:
        total = 0.0
        for r in document.relations:
            pairs = mention_pairs(document, r)
            others = [p for o in other.relations if o.label == r.label for p in mention_pairs(other, o)]
            if pairs:
                total += sum(1 for p in pairs if p in others) / len(pairs)
        return total
    return side(pred, gold), len(pred.relations), side(gold, pred), len(gold.relations)


def perturbed(gold: Document, rng: random.Random) -> Document:
    """A prediction: some mentions dropped or repeated (also into another entity), facts dropped, relabelled
    or repeated."""
    entities = []
    for e in gold.entities:
        mentions = [m for m in e.mentions if rng.random() > 0.2] or list(e.mentions[:1])
        if rng.random() < 0.3:
            mentions.append(rng.choice(rng.choice(gold.entities).mentions))
        entities.append(replace(e, mentions=tuple(mentions)))
    facts = [replace(r, label=rng.choice(["P1", "P2"])) if rng.random() < 0.2 else r
             for r in gold.relations if rng.random() > 0.2]
    facts += rng.sample(facts, k=min(len(facts), 1))
    return replace(gold, entities=tuple(entities), relations=tuple(facts))


def test_one_span_in_two_predicted_entities_jerex_strict():
    """Gold {Alice, She} —P26→ {Carol}; predicted {Bob, She} listed first, then {Alice, She} with the fact:
    JEREX strict F1 = 100 (rexel-bench gave 0 when a repeated span stayed only in the first entity)."""
    gold = doc(clusters("{ac} {d}"), relations=[(0, 1, "P26")])
    pred = doc(clusters("{bc} {ac} {d}"), relations=[(1, 2, "P26")])
    assert jerex_strict(gold, pred) == (1, 1, 1)
    values = score_documents([gold], [pred], metrics=["e2e_hard"]).metrics["e2e_hard"].values
    assert values == {"p": 1.0, "r": 1.0, "f1": 1.0}


def test_a_span_repeated_inside_one_gold_entity_is_one_span_of_it():
    gold = doc(clusters("{aAc} {d}"), relations=[(0, 1, "P26")])
    pred = doc(clusters("{ac} {d}"), relations=[(0, 1, "P26")])
    assert jerex_strict(gold, pred) == (1, 1, 1)
    assert score_documents([gold], [pred], metrics=["e2e_hard"]).metrics["e2e_hard"].values["f1"] == 1.0


def test_soft_counts_every_copy_of_a_repeated_gold_mention():
    """Gold {a, a} —P1→ {d}, predicted {a} —P1→ {d}: Linked-DocRED counts two gold pairs, both found."""
    gold = doc(clusters("{aA} {d}"), relations=[(0, 1, "P1")])
    pred = doc(clusters("{a} {d}"), relations=[(0, 1, "P1")])
    assert linked_docred_soft(gold, pred) == (1.0, 1, 1.0, 1)
    gold = doc(clusters("{aAb} {d}"), relations=[(0, 1, "P1")])  # pairs a-d, a-d, b-d: 2 of 3 found
    assert relations.soft_counts(DocPair(gold, pred)) == pytest.approx(linked_docred_soft(gold, pred))
    assert linked_docred_soft(gold, pred)[2] == pytest.approx(2 / 3)


@pytest.mark.parametrize("seed", range(3))
def test_end_to_end_equals_jerex_and_linked_docred_on_random_documents(seed):
    rng = random.Random(seed)
    for i in range(300):
        gold = random_gold(rng, f"d{i}")
        pred = perturbed(gold, rng) if rng.random() < 0.7 else random_gold(rng, f"d{i}")
        pair = DocPair(gold, pred)
        counts = relations.hard_counts_by_relation(pair)
        tp, predicted, gold_n = jerex_strict(gold, pred)
        assert (sum(c[0] for c in counts.values()), sum(c[1] for c in counts.values()),
                sum(c[3] for c in counts.values())) == (tp, predicted, gold_n)
        assert relations.soft_counts(pair) == pytest.approx(linked_docred_soft(gold, pred), abs=1e-12)


def test_soft_score_without_predictions_is_zero():
    """Linked-DocRED's script divides by zero when nothing is predicted; rexel-bench gives 0."""
    gold = doc(clusters("{a} {d}"), relations=[(0, 1, "P1")])
    pred = doc(clusters("{a} {d}"))
    assert score_documents([gold], [pred], metrics=["e2e_soft"]).metrics["e2e_soft"].values["f1"] == 0.0


# ---------------------------------------------------------------- order (item 8)


def _all_values(gold: list[Document], pred: list[Document]) -> dict[str, dict[str, float]]:
    """Every metric's values, less the DocRED protocol's: it scores facts by entity index, so it applies
    only to predictions that keep the gold entities in the gold order (reordered entities are refused)."""
    result = score_documents(gold, pred)
    return {name: m.values for name, m in result.metrics.items() if not name.startswith("docred")}


def _assert_same(a: dict, b: dict) -> None:
    assert a.keys() == b.keys()
    for name in a:
        for key in a[name]:
            assert a[name][key] == pytest.approx(b[name][key], abs=1e-12), (name, key)


@pytest.mark.parametrize("seed", range(2))
def test_every_metric_is_invariant_to_order_on_random_documents(seed):
    rng = random.Random(seed)
    gold = [random_gold(rng, f"d{i}") for i in range(150)]
    pred = [perturbed(g, rng) for g in gold]
    reference = _all_values(gold, pred)
    for _ in range(3):
        _assert_same(_all_values([shuffled(g, rng) for g in gold], [shuffled(p, rng) for p in pred]), reference)


def _reordered_docred_file(raw: list[dict], rng: random.Random) -> list[dict]:
    """A copy of a DocRED-layout file with every entity's mentions reversed, entities and facts shuffled."""
    out = []
    for document in raw:
        order = list(range(len(document["vertexSet"])))
        rng.shuffle(order)
        where = {old: new for new, old in enumerate(order)}
        labels = [{**label, "h": where[label["h"]], "t": where[label["t"]]} for label in document["labels"]]
        rng.shuffle(labels)
        out.append({**document, "vertexSet": [document["vertexSet"][old][::-1] for old in order],
                    "labels": labels})
    return out


def test_every_metric_is_invariant_to_order_on_docred_ie_dev(tmp_path):
    """67 DocRED-IE dev entities tie between two QIDs; reversing their mentions changed e2e_linked from 1.0 to
    0.526 against the original. Now a reordered copy of the gold scores exactly what the gold scores against
    itself (1.0 on linking; coreference below 1 where the gold repeats a span, as v8.01 scores such a key),
    and a perturbed prediction scores the same against either."""
    path = resolve("docred-ie:dev", None)
    raw = json.loads(path.read_text(encoding="utf-8"))
    (tmp_path / "reordered.json").write_text(json.dumps(_reordered_docred_file(raw, random.Random(0))),
                                             encoding="utf-8")
    gold = data_io.load(path).documents
    reordered = data_io.load(tmp_path / "reordered.json").documents
    assert sum(1 for d in gold for e in d.entities if len(set(e.mention_qids) - {None}) > 1) > 0
    against_original = _all_values(gold, reordered)
    _assert_same(against_original, _all_values(gold, gold))
    assert against_original["e2e_linked"]["f1"] == 1.0 and against_original["ed_mention"]["f1"] == 1.0
    rng = random.Random(1)
    pred = [perturbed(g, rng) for g in gold]
    _assert_same(_all_values(reordered, [shuffled(p, rng) for p in pred]), _all_values(gold, pred))


def test_order_free_tie_break_is_named_in_the_score_notes():
    result = score_documents([doc(clusters("{a}"))], [doc(clusters("{a}"))])
    text = " ".join(result.conventions)
    assert "Q5 before Q42" in text and "v8.01" in text and "JEREX" in text and "Linked-DocRED" in text
    assert np.isfinite(result.metrics["coref_conll"].values["f1"])
