"""The silver-link builder on hand-made cases, and the auditor (checks, sampling, Wilson intervals)."""

from __future__ import annotations

import csv

import pytest
from scipy.stats import binomtest

from rexel_bench.data.model import Document, Entity, FineType, Mention, Relation
from rexel_bench.kb.store import EntityRecord, KnowledgeBase
from rexel_bench.silver.audit import (
    audit_links,
    sample_for_verification,
    score_judgements,
    wilson_interval,
    write_sample,
)
from rexel_bench.silver.builder import build_docred_ie, link_document


@pytest.fixture()
def kb(tmp_path):
    """"Paris" is mostly the city (Q90), sometimes Paris Hilton (Q47899); "Texas" the state (Q1439);
    "Paris, Texas" exists as Q830149 with the fact (Q830149, P131, Q1439)."""
    store = KnowledgeBase(tmp_path / "kb.sqlite", create=True)
    store.add_entities([
        EntityRecord("Q90", "Paris", aliases={"Paris": 80}, classes={"Q515"}),
        EntityRecord("Q47899", "Paris Hilton", aliases={"Paris": 15, "Paris Hilton": 10}, classes={"Q5"}),
        EntityRecord("Q830149", "Paris, Texas", aliases={"Paris": 5}, classes={"Q515"}, facts={("P131", "Q1439")}),
        EntityRecord("Q1439", "Texas", aliases={"Texas": 50}, classes={"Q35657"}),
    ], source="test")
    store.add_class_types([("Q515", "LOC", 90), ("Q5", "PER", 100), ("Q35657", "LOC", 10)])
    store.add_class_labels([("Q515", "city"), ("Q5", "human"), ("Q35657", "U.S. state")])
    store.finalize()
    yield store
    store.close()


def _doc(names_types: list[tuple[str, str]], relations: tuple[Relation, ...] = ()) -> Document:
    tokens = tuple(t for name, _ in names_types for t in name.split())
    entities, at = [], 0
    for name, kind in names_types:
        n = len(name.split())
        entities.append(Entity(mentions=(Mention(0, at, at + n, name, type=kind),), type=kind))
        at += n
    return Document(id="d", title="d", sentences=(tokens,), entities=tuple(entities), relations=relations)


def test_alias_prior_picks_the_most_likely_entity(kb):
    (link,) = link_document(_doc([("Paris", "LOC")]), kb)
    assert link.qid == "Q90" and link.method == "alias-prior+type"


def test_type_compatibility_overrides_the_prior(kb):
    (link,) = link_document(_doc([("Paris", "PER")]), kb)
    assert link.qid == "Q47899"  # a person called Paris: the human beats the more frequent city


def test_relation_consistency_prefers_assignments_that_are_kb_facts(kb):
    doc = _doc([("Paris", "LOC"), ("Texas", "LOC")], (Relation(0, 1, "P131"),))
    paris, texas = link_document(doc, kb)
    assert (paris.qid, texas.qid) == ("Q830149", "Q1439")
    assert paris.method == "relation-consistency"


def test_numbers_dates_and_unknown_entities_are_nil(kb):
    date, unknown = link_document(_doc([("1990", "TIME"), ("Zyxwv", "ORG")]), kb)
    assert (date.qid, date.method) == (None, "num/time")
    assert (unknown.qid, unknown.method) == (None, "no-candidate")


def test_low_confidence_becomes_nil_and_output_records_provenance(kb):
    doc = _doc([("Paris", "MISC")])  # no class fits MISC: prior alone, 0.8 confidence
    linked = build_docred_ie([doc], kb, progress=False)[0]
    mention = linked.entities[0].mentions[0]
    assert mention.qid == "Q90" and mention.extra["link_method"] in {"alias-prior+type", "alias-prior"}
    assert 0 < mention.extra["link_confidence"] <= 1
    assert mention.fine_types == (FineType("Q515", "city", 1.0),)
    strict = build_docred_ie([doc], kb, progress=False) == build_docred_ie([doc], kb, progress=False)
    assert strict  # deterministic


def test_audit_finds_disagreements_inconsistent_forms_and_type_clashes(kb):
    def linked(kind: str, qids: list[str | None]) -> Document:
        mentions = tuple(Mention(0, i, i + 1, "Paris", type=kind, qid=q) for i, q in enumerate(qids))
        entity = Entity(mentions=mentions, type=kind, qid=qids[0])
        return Document(id=f"d{kind}", title=kind, sentences=(("Paris",) * len(qids),), entities=(entity,))
    docs = [linked("LOC", ["Q90", "Q90", None]), linked("PER", ["Q90"])]
    result = audit_links(docs, kb=kb)
    assert result["qid_disagreements"]["by_kind"] == {"QID and none": 1}
    assert result["type_incompatibilities"]["total"] == 1  # a PER linked to a city
    assert result["coverage_by_type"]["LOC"]["coverage"] == 1.0
    other = Document(id="x", title="x", sentences=(("Paris",),),
                     entities=(Entity(mentions=(Mention(0, 0, 1, "Paris", qid="Q47899"),), qid="Q47899", type="PER"),))
    forms = audit_links([*docs, other])["inconsistent_surface_forms"]
    assert forms[0]["surface_form"] == "paris" and set(forms[0]["qids"]) == {"Q90", "Q47899"}


def test_wilson_interval_matches_scipy():
    for k, n in [(0, 10), (7, 10), (180, 200), (200, 200), (1, 3)]:
        expected = binomtest(k, n).proportion_ci(confidence_level=0.95, method="wilson")
        low, high = wilson_interval(k, n)
        assert low == pytest.approx(expected.low, abs=1e-12) and high == pytest.approx(expected.high, abs=1e-12)


def test_sample_then_score_judgements(kb, tmp_path):
    docs = [Document(id=f"d{i}", title=f"d{i}", sentences=(("Paris", "Texas"),), entities=(
        Entity(mentions=(Mention(0, 0, 1, "Paris"),), type="LOC", qid="Q90"),
        Entity(mentions=(Mention(0, 1, 2, "Texas"),), type="PER", qid="Q1439"))) for i in range(10)]
    rows = sample_for_verification(docs, kb, n=6, seed=0)
    assert sample_for_verification(docs, kb, n=6, seed=0) == rows
    assert {r["stratum"] for r in rows} == {"LOC", "PER"} and len(rows) == 6
    assert "[[Paris]]" in rows[0]["sentence"] and rows[0]["label"] == "Paris"
    csv_path, html_path = write_sample(rows, tmp_path)
    assert "<mark>Paris</mark>" in html_path.read_text()
    with csv_path.open() as f:
        filled = list(csv.DictReader(f))
    for r in filled:
        r["judgement"] = "correct" if r["stratum"] == "LOC" else "incorrect"
    with csv_path.open("w", newline="") as f:
        writer = csv.DictWriter(f, fieldnames=list(filled[0]))
        writer.writeheader()
        writer.writerows(filled)
    scores = score_judgements(csv_path)
    assert scores["LOC"]["precision"] == 1.0 and scores["PER"]["precision"] == 0.0
    assert scores["all"]["precision"] == pytest.approx(3 / 6)
    assert scores["all"]["wilson_95"] == pytest.approx(list(wilson_interval(3, 6)))
