"""Linked triples: the predictions of systems that output only facts between Wikidata entities.

Generative closed-IE systems (GenIE- or REBEL-style) produce, per document, (head QID, relation, tail QID)
triples and perhaps the surface forms they read, but no mention offsets. One JSON line per document::

    {"id": "Skai TV", "triples": [{"head": "Q7536", "relation": "P17", "tail": "Q41"},
                                  ["Q7536", "P159", "Q1524"]]}

(``id``, or ``title`` when the gold is found by title; each triple an object, optionally with ``head_text`` and
``tail_text``, or a three-item list.) Each distinct QID becomes an entity without mentions and each triple a
relation between two of them, so such a file is scored on linked facts (``e2e_linked``), with the same
bootstrap and report as every other system; the metrics that need mentions do not apply to it.
"""

from __future__ import annotations

from typing import Any

from rexel_bench.data.formats.common import Where
from rexel_bench.data.model import Document, Entity, Relation

NAME = "linked-triples"


def looks_like(raw: Any) -> bool:
    """Whether a raw document is a linked-triples line."""
    return isinstance(raw, dict) and "triples" in raw and "entities" not in raw


def _triple(value: Any, where: Where, field: str) -> tuple[str, str, str, dict[str, str]]:
    if isinstance(value, list) and len(value) == 3 and all(isinstance(v, str) and v for v in value):
        return value[0], value[1], value[2], {}
    if isinstance(value, dict) and all(isinstance(value.get(k), str) and value[k] for k in ("head", "relation",
                                                                                              "tail")):
        texts = {k: value[k] for k in ("head_text", "tail_text") if isinstance(value.get(k), str)}
        return value["head"], value["relation"], value["tail"], texts
    raise where.fail(field, "a triple: {head, relation, tail} (QIDs and a relation id) or [head, relation, tail]",
                     value)


def parse(raw: Any, index: int) -> Document:
    """One line → a document of entities without mentions (one per QID) and relations between them."""
    title = raw.get("title") if isinstance(raw, dict) else None
    where = Where(index, title if isinstance(title, str) else None)
    if not isinstance(raw, dict):
        raise where.fail("", "an object {id, triples}", raw)
    doc_id = raw.get("id", title)
    if not isinstance(doc_id, str) or not doc_id:
        raise where.fail("id", "a document id (or a title)", doc_id)
    triples = raw["triples"]
    if not isinstance(triples, list):
        raise where.fail("triples", "a list of triples", triples)
    index_of: dict[str, int] = {}
    surfaces: dict[str, list[str]] = {}
    relations = []
    for i, value in enumerate(triples):
        head, label, tail, texts = _triple(value, where, f"triples[{i}]")
        for qid, key in ((head, "head_text"), (tail, "tail_text")):
            index_of.setdefault(qid, len(index_of))
            if key in texts:
                surfaces.setdefault(qid, []).append(texts[key])
        relations.append(Relation(index_of[head], index_of[tail], label, evidence=None))
    entities = tuple(Entity(mentions=(), qid=qid, extra={"surface_forms": surfaces[qid]} if qid in surfaces else {})
                     for qid in index_of)
    return Document(id=doc_id, title=title if isinstance(title, str) else doc_id, sentences=(), entities=entities,
                    relations=tuple(relations), meta={"format": NAME})


def dump(doc: Document) -> dict[str, Any]:
    """A document's linked facts as a linked-triples line (facts with an unlinked end are left out)."""
    triples = []
    for r in doc.relations:
        head, tail = doc.entities[r.head], doc.entities[r.tail]
        if head.qid and tail.qid:
            triples.append({"head": head.qid, "relation": r.label, "tail": tail.qid})
    return {"id": doc.id, "title": doc.title, "triples": triples}
