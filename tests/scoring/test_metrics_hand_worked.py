"""Every metric on a hand-worked example, plus empty predictions, empty gold and a perfect system.

The example (one sentence, tokens a..z, a mention is one token):
gold  E0 {a c} PER Q1 · E1 {e} LOC Q2 · E2 {g} TIME (no QID) · E3 {i} ORG NIL
      facts (E0,E1,P27) (E0,E2,P569) (E3,E1,P17) (E1,E2,P571)
pred  P0 {a} PER Q1 (mention c missing) · P1 {e} LOC Q2 · P2 {g} TIME · P3 {i k} ORG NIL (k added) ·
      P4 {m} PER Q9 (spurious)
      facts (P0,P1,P27) (P0,P2,P569) (P3,P1,P17) (P4,P1,P27) (P1,P2,P571)
Expected values are worked out by hand in the comments.
"""

from __future__ import annotations

from dataclasses import replace

import pytest

from rexel_bench.data.model import Document
from rexel_bench.scoring import coref, linking, mentions, relations
from rexel_bench.scoring.api import score_documents

from .helpers import doc, span_of

GOLD = doc([[span_of("a"), span_of("c")], [span_of("e")], [span_of("g")], [span_of("i")]],
           types=["PER", "LOC", "TIME", "ORG"], qids=["Q1", "Q2", None, None],
           relations=[(0, 1, "P27"), (0, 2, "P569"), (3, 1, "P17"), (1, 2, "P571")])
PRED = doc([[span_of("a")], [span_of("e")], [span_of("g")], [span_of("i"), span_of("k")], [span_of("m")]],
           types=["PER", "LOC", "TIME", "ORG", "PER"], qids=["Q1", "Q2", None, None, "Q9"],
           relations=[(0, 1, "P27"), (0, 2, "P569"), (3, 1, "P17"), (4, 1, "P27"), (1, 2, "P571")])

# metric: (precision, recall) worked by hand
EXPECTED = {
    "md": (4 / 6, 4 / 5),                 # gold {a c e g i}, pred {a e g i k m}: 4 shared
    "et": (4 / 6, 4 / 5),                 # the shared spans also agree on type
    "ed_mention": (3 / 5, 3 / 4),         # g excluded (TIME, no QID); gold (a,Q1)(c,Q1)(e,Q2)(i,NIL);
                                          # pred (a,Q1)(e,Q2)(i,NIL)(k,NIL)(m,Q9)
    "ed_entity": (1 / 4, 1 / 3),          # only ({e},Q2) matches: {a}≠{a,c}, {i,k}≠{i}
    "coref_muc": (0, 0),                  # no key link is recovered; one wrong response link (i-k)
    "coref_b3": (3.5 / 6, 3.5 / 5),       # R: a 1/2, e 1, g 1, i 1; P: a 1, e 1, g 1, i 1/2, k 0, m 0
    "coref_lea": (2 / 6, 2 / 5),          # singletons e, g resolved on both sides; nothing else
    "e2e_hard": (1 / 5, 1 / 4),           # only (E1,E2,P571) has exactly matching clusters
    "e2e_hard_typed": (1 / 5, 1 / 4),
    "e2e_soft": (3.5 / 5, 3 / 4),         # P: 1 + 1 + 1/2 + 0 + 1; R: 1/2 + 1/2 + 1 + 1
    "e2e_linked": (1 / 2, 1 / 1),         # gold {(Q1,P27,Q2)}; pred {(Q1,P27,Q2), (Q9,P27,Q2)}
}


def _f1(p: float, r: float) -> float:
    return 0.0 if p + r == 0 else 2 * p * r / (p + r)


@pytest.fixture(scope="module")
def result():
    return score_documents([GOLD], [PRED])


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_hand_worked_values(result, name):
    p, r = EXPECTED[name]
    values = result.metrics[name].values
    assert values["p"] == pytest.approx(p) and values["r"] == pytest.approx(r)
    assert values["f1"] == pytest.approx(_f1(p, r))


def test_macro_typing_averages_per_type_f1(result):
    # PER: P 1/2 R 1/2 → 1/2; LOC 1; TIME 1; ORG: P 1/2 R 1 → 2/3
    assert result.metrics["et.macro"].values["f1"] == pytest.approx((0.5 + 1 + 1 + 2 / 3) / 4)
    assert result.metrics["et.macro"].classes == ("LOC", "ORG", "PER", "TIME")


def test_inkb_accuracy(result):
    # gold mentions with a QID: a (Q1, predicted Q1), c (Q1, not predicted), e (Q2, predicted Q2)
    assert result.metrics["ed_inkb_accuracy"].values["accuracy"] == pytest.approx(2 / 3)


def test_docred_metrics_skipped_when_entities_change(result):
    assert "docred_re" not in result.metrics
    assert any("DocRED-protocol metrics skipped" in n for n in result.notes)


def test_partial_overlap_credits_precision_and_recall_separately():
    gold = doc([[(0, 0, 2)], [(0, 5, 6)]])
    pred = doc([[(0, 1, 3)], [(0, 1, 2)], [(0, 8, 9)]])
    # pred [1,3) and [1,2) overlap gold [0,2); [8,9) overlaps nothing; gold [5,6) is not overlapped
    from rexel_bench.scoring.base import DocPair
    assert mentions.md_partial_counts(DocPair(gold, pred)) == (2, 3, 1, 2)
    assert mentions.md_counts(DocPair(gold, pred)) == (0, 3, 0, 2)


def test_fine_types_micro_over_span_class_pairs():
    from rexel_bench.data.model import Entity, FineType, Mention
    from rexel_bench.scoring.base import DocPair

    def one(fines: tuple[str, ...]) -> Document:
        entity = Entity(mentions=(Mention(0, 0, 1, "a", fine_types=tuple(FineType(q) for q in fines)),))
        return Document(id="d", title="d", sentences=(("a",),), entities=(entity,))

    assert mentions.et_fine_counts(DocPair(one(("Q5", "Q82955")), one(("Q5", "Q215627", "Q1")))) == (1, 3, 1, 2)


def test_empty_prediction_scores_zero_with_full_denominators():
    empty = doc([], doc_id="d")
    result = score_documents([GOLD], [Document(id="d", title="d", sentences=GOLD.sentences)])
    for name in ("md", "et", "ed_mention", "coref_muc", "coref_b3", "e2e_hard", "e2e_soft", "e2e_linked"):
        values = result.metrics[name].values
        assert values == {"p": 0.0, "r": 0.0, "f1": 0.0}, name
    assert result.metrics["md"].to_dict()["totals"] == {"p_num": 0, "p_den": 0, "r_num": 0, "r_den": 5}
    # empty gold: every prediction is wrong, recall has nothing to find
    result = score_documents([empty], [PRED])
    assert result.metrics["md"].to_dict()["totals"] == {"p_num": 0, "p_den": 6, "r_num": 0, "r_den": 0}
    assert result.metrics["md"].values["p"] == 0.0


def test_perfect_system_scores_one_everywhere():
    result = score_documents([GOLD], [GOLD])
    for name, metric in result.metrics.items():
        assert metric.values[metric.headline] == pytest.approx(1.0), name


def test_missing_mentions_in_a_cluster_break_hard_but_not_soft_credit():
    gold = doc([[span_of("a"), span_of("b"), span_of("c")], [span_of("e")]], relations=[(0, 1, "P17")])
    pred = doc([[span_of("a"), span_of("b")], [span_of("e")]], relations=[(0, 1, "P17")])
    result = score_documents([gold], [pred], metrics=["end-to-end"])
    assert result.metrics["e2e_hard"].values["f1"] == 0.0
    assert result.metrics["e2e_soft"].values["p"] == 1.0  # both predicted pairs are gold pairs
    assert result.metrics["e2e_soft"].values["r"] == pytest.approx(2 / 3)  # 2 of the 3 gold pairs found


def test_linked_facts_deduplicate_and_skip_unlinked():
    gold = doc([[span_of("a")], [span_of("c")], [span_of("e")]], qids=["Q1", "Q2", "Q2"],
               relations=[(0, 1, "P17"), (0, 2, "P17")])  # two facts, one linked triple
    facts, unlinked = relations.linked_facts(gold)
    assert facts == {("Q1", "P17", "Q2")} and unlinked == 0


def test_value_type_rule():
    assert linking.is_value_type("NUM") and linking.is_value_type("type::time") and linking.is_value_type("type_value")
    assert not linking.is_value_type("LOC") and not linking.is_value_type(None)


def test_repeated_response_key_mention_stays_in_the_larger_entity_whatever_the_order():
    gold = doc([[span_of("b"), span_of("c")]])
    pred = doc([[span_of("b"), span_of("c")], [span_of("b")]])  # b again in another entity
    for entities in (pred.entities, pred.entities[::-1]):
        result = score_documents([gold], [replace(pred, entities=entities)], metrics=["coreference"])
        assert result.metrics["coref_muc"].values["f1"] == 1.0  # v8.01 on the order {bc} {b}
        assert any("0 gold, 1 predicted" in n for n in result.notes)
    assert coref.CONLL.name == "coref_conll"


@pytest.mark.parametrize("counts", [lambda pair: (1, 2, 3), lambda pair: 4, lambda pair: (1, 2, 3, 4, 5)])
def test_a_metric_with_the_wrong_number_of_counts_is_refused(counts):
    from rexel_bench.scoring.api import score_pairs
    from rexel_bench.scoring.base import Metric

    gold = doc([[(0, 0, 1)], [(0, 2, 3)]])
    broken = Metric("broken", "1", "counts of the wrong length", ("p_num", "p_den", "r_num", "r_den"), counts)
    with pytest.raises(ValueError, match="expected 4 counts"):
        score_pairs([(gold, gold), (gold, gold)], [broken])


@pytest.mark.parametrize("seed", range(20))
def test_partial_overlap_equals_its_definition_on_random_spans(seed):
    """md_partial against its definition, token by token: a span is credited when some span of the other
    side, in its sentence, covers one of its tokens (random spans over three sentences, shared ones too)."""
    import random

    from rexel_bench.scoring.base import DocPair

    rng = random.Random(seed)

    def spans() -> list[tuple[int, int, int]]:
        out = []
        for _ in range(rng.randrange(0, 9)):
            start = rng.randrange(0, 20)
            out.append((rng.randrange(3), start, start + rng.randrange(1, 4)))
        return out

    gold_spans, pred_spans = spans(), spans()
    pred_spans += rng.sample(gold_spans, len(gold_spans) // 2)  # exact matches too

    def credited(side: set, other: set) -> int:
        return sum(any(s == o or (s[0] == o[0] and max(s[1], o[1]) < min(s[2], o[2])) for o in other) for s in side)

    gold = replace(doc([[s] for s in gold_spans]), sentences=(tuple("abcdefghijklmnopqrstuvwxyz"),) * 3)
    pred = replace(doc([[s] for s in pred_spans]), sentences=gold.sentences)
    g, p = set(gold_spans), set(pred_spans)
    assert mentions.md_partial_counts(DocPair(gold, pred)) == (credited(p, g), len(p), credited(g, p), len(g))
