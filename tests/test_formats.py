"""Formats without real files here: Linked-DocRED and DWIE with text, on hand-made documents."""

from __future__ import annotations

import json

from rexel_bench.data import io as data_io
from rexel_bench.data.text import tokenize_with_offsets

LINKED = {
    "title": "Skai TV",
    "sents": [["Skai", "TV", "is", "a", "Greek", "network", "based", "in", "Piraeus", "."],
              ["Skai", "TV", "is", "in", "Greece", "."]],
    "entities": [
        {"id": 0, "type": "ORG",
         "entity_linking": {"wikipedia_resource": "Skai_TV", "wikidata_resource": "Q2334737",
                            "wikipedia_not_resource": None, "method": "links-in-page", "confidence": "B"},
         "mentions": [{"name": "Skai TV", "sent_id": 0, "pos": [0, 2]},
                      {"name": "Skai TV", "sent_id": 1, "pos": [0, 2]}]},
        {"id": 7, "type": "LOC",
         "entity_linking": {"wikipedia_resource": "Piraeus", "wikidata_resource": "Q58976",
                            "wikipedia_not_resource": None, "method": "hyperlinks-alignment", "confidence": "A"},
         "mentions": [{"name": "Piraeus", "sent_id": 0, "pos": [8, 9]}]},
        {"id": 3, "type": "LOC", "entity_linking": {"wikipedia_resource": "#ignored#", "wikidata_resource": None,
                                                     "method": "num/time", "confidence": "A"},
         "mentions": [{"name": "Greece", "sent_id": 1, "pos": [4, 5]}]},
    ],
    "relations": [{"r": "P159", "h": 0, "t": 7, "evidence": [0]}, {"r": "P17", "h": 7, "t": 3, "evidence": [0, 1]}],
}


def test_linked_docred_reads_ids_links_and_round_trips(tmp_path):
    path = tmp_path / "dev.json"
    path.write_text(json.dumps([LINKED]), encoding="utf-8")
    result = data_io.load(path)
    assert result.format == "linked-docred" and result.problems == []
    doc = result.documents[0]
    assert [e.qid for e in doc.entities] == ["Q2334737", "Q58976", None]
    assert doc.entities[0].link == "Skai_TV" and len(doc.entities[0].mentions) == 2
    assert [(r.head, r.tail) for r in doc.relations] == [(0, 1), (1, 2)]  # ids 0, 7, 3 → positions
    assert json.dumps(data_io.dump_document(doc, "linked-docred"), sort_keys=True) == json.dumps(LINKED, sort_keys=True)


def test_linked_docred_relation_to_unknown_id(tmp_path):
    bad = json.loads(json.dumps(LINKED))
    bad["relations"][0]["t"] = 5
    path = tmp_path / "dev.json"
    path.write_text(json.dumps([bad]), encoding="utf-8")
    result = data_io.load(path)
    assert not result.documents
    assert result.problems[0].field == "relations[0].t" and result.problems[0].found == "5"


CONTENT = "Merkel met Obama in Berlin. The German chancellor said the U.S. president was welcome.\n\nBerlin is busy."
DWIE = {
    "id": "DW_1",
    "content": CONTENT,
    "tags": ["all", "test"],
    "mentions": [
        {"begin": 0, "end": 6, "text": "Merkel", "concept": 0, "candidates": ["Angela_Merkel"], "scores": [1.0]},
        {"begin": 11, "end": 16, "text": "Obama", "concept": 1, "candidates": [], "scores": []},
        {"begin": 20, "end": 26, "text": "Berlin", "concept": 2, "candidates": [], "scores": []},
        {"begin": 32, "end": 49, "text": "German chancellor", "concept": 0, "candidates": [], "scores": []},
        {"begin": 88, "end": 94, "text": "Berlin", "concept": 2, "candidates": [], "scores": []},
    ],
    "concepts": [
        {"concept": 0, "text": "Merkel", "keyword": False, "count": 2, "link": "Angela_Merkel",
         "tags": ["type::entity", "type::person", "type::politician"]},
        {"concept": 1, "text": "Obama", "keyword": False, "count": 1, "link": "Barack_Obama", "tags": ["type::person"]},
        {"concept": 2, "text": "Berlin", "keyword": False, "count": 2, "link": "Berlin",
         "tags": ["type::entity", "type::gpe", "type::location"]},
        {"concept": 3, "text": "Germany", "keyword": False, "count": 0, "link": "Germany", "tags": ["type::location"]},
    ],
    "relations": [{"s": 0, "p": "citizen_of", "o": 3}, {"s": 2, "p": "in0", "o": 3}],
    "frames": [],
    "iptc": [],
}


def test_dwie_with_content_is_tokenised_and_mapped(tmp_path):
    path = tmp_path / "DW_1.json"
    path.write_text(json.dumps(DWIE), encoding="utf-8")
    result = data_io.load(path)
    doc = result.documents[0]
    assert result.format == "dwie" and doc.has_text and len(doc.sentences) == 3
    assert [(m.text, " ".join(doc.span_tokens(m))) for m in doc.mentions] == [
        ("Merkel", "Merkel"), ("German chancellor", "German chancellor"), ("Obama", "Obama"),
        ("Berlin", "Berlin"), ("Berlin", "Berlin")]
    assert [e.type for e in doc.entities] == ["person", "person", "location", "location"]
    assert doc.entities[3].mentions == ()  # a concept without mentions is kept: a relation refers to it
    assert [p.severity for p in result.problems] == ["info"]  # and said so
    assert json.dumps(data_io.dump_document(doc, "dwie"), sort_keys=True) == json.dumps(DWIE, sort_keys=True)


def test_sentence_split_never_cuts_a_protected_span():
    text = "He met Mr. Smith. Then St. Louis. Done."
    assert tokenize_with_offsets(text).sentences == (
        ("He", "met", "Mr", ".", "Smith", "."), ("Then", "St", ".", "Louis", "."), ("Done", "."))
    # a boundary that the rules would place is not placed inside an annotated span
    cut = tokenize_with_offsets("It is in Paris. France is big.", [(9, 22)])
    assert len(cut.sentences) == 1
    sent, start, end = cut.locate(9, 22)
    assert cut.sentences[sent][start:end] == ("Paris", ".", "France")
