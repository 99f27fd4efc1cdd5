"""Linked-DocRED (Genest et al. 2023): ``entities`` with ``mentions`` and ``entity_linking``, ``relations``.

Relations name entities by their ``id`` field, which this reader maps to positions. The entity's
QID is ``entity_linking.wikidata_resource``; its Wikipedia title ``wikipedia_resource`` (special
values ``#ignored#`` for numbers and dates and ``#DocRED-<id>#`` for entities absent from
Wikipedia are kept as written, with no QID). Every other field is kept for writing back.
"""

from __future__ import annotations

from typing import Any

from rexel_bench.data.formats.common import Where, rest
from rexel_bench.data.model import Document, Entity, Mention, Relation

NAME = "linked-docred"
_DOC_KEYS = frozenset({"title", "sents", "entities", "relations"})
_ENTITY_KEYS = frozenset({"type", "mentions"})
_MENTION_KEYS = frozenset({"name", "sent_id", "pos"})
_LABEL_KEYS = frozenset({"h", "t", "r", "evidence"})


def looks_like(raw_doc: Any) -> bool:
    """Whether a raw document has the Linked-DocRED layout."""
    return (isinstance(raw_doc, dict) and "entities" in raw_doc and "sents" in raw_doc
            and "schema_version" not in raw_doc)


def _qid(linking: dict[str, Any] | None) -> str | None:
    value = (linking or {}).get("wikidata_resource")
    return value if isinstance(value, str) and value.startswith("Q") else None


def parse(raw_doc: Any, index: int) -> Document:
    """Read one raw Linked-DocRED document; raise a located DataError if its structure is wrong."""
    where = Where(index)
    if not isinstance(raw_doc, dict):
        raise where.fail("", "a document object", raw_doc)
    title = where.get(raw_doc, "title", str, "title")
    where = Where(index, title)
    sentences = where.sentences(where.get(raw_doc, "sents", list, "sents"), "sents")
    entities, position_of = [], {}
    for e, raw in enumerate(where.get(raw_doc, "entities", list, "entities")):
        field = f"entities[{e}]"
        linking = where.get(raw, "entity_linking", dict, f"{field}.entity_linking", optional=True)
        mentions = []
        for i, m in enumerate(where.get(raw, "mentions", list, f"{field}.mentions")):
            start, end = where.span(m, "pos", f"{field}.mentions[{i}].pos")
            mentions.append(Mention(sent=where.get(m, "sent_id", int, f"{field}.mentions[{i}].sent_id"),
                                    start=start, end=end, text=where.get(m, "name", str, f"{field}.mentions[{i}].name"),
                                    extra=rest(m, _MENTION_KEYS)))
        entity_id = raw.get("id", e)
        if entity_id in position_of:
            raise where.fail(f"{field}.id", "an entity id unique in the document", entity_id)
        position_of[entity_id] = e
        link = (linking or {}).get("wikipedia_resource")
        entity_type = where.get(raw, "type", str, f"{field}.type", optional=True)
        entities.append(Entity(mentions=tuple(mentions), type=entity_type,
                               qid=_qid(linking), link=link if isinstance(link, str) else None,
                               extra=rest(raw, _ENTITY_KEYS)))
    relations = []
    for i, label in enumerate(where.get(raw_doc, "relations", list, "relations", optional=True, default=[])):
        field = f"relations[{i}]"
        ends = []
        for key in ("h", "t"):
            value = where.get(label, key, (int, str), f"{field}.{key}")
            if value not in position_of:
                raise where.fail(f"{field}.{key}", "the id of an entity of this document", value)
            ends.append(position_of[value])
        relations.append(Relation(head=ends[0], tail=ends[1], label=where.get(label, "r", str, f"{field}.r"),
                                  evidence=where.int_list(label, "evidence", f"{field}.evidence", optional=True),
                                  extra=rest(label, _LABEL_KEYS)))
    return Document(id=str(raw_doc.get("id", title)), title=title, sentences=sentences, entities=tuple(entities),
                    relations=tuple(relations), meta={"format": NAME, "extra": rest(raw_doc, _DOC_KEYS)})


def dump(doc: Document) -> dict[str, Any]:
    """Write one document in the Linked-DocRED layout (entity ids kept where the source had them)."""
    entities, ids = [], []
    for e, ent in enumerate(doc.entities):
        extra = dict(ent.extra)
        entity_id = extra.pop("id", e)
        ids.append(entity_id)
        linking = extra.pop("entity_linking", None)
        if linking is None and (ent.qid or ent.link):
            linking = {"wikipedia_resource": ent.link, "wikidata_resource": ent.qid}
        entities.append({
            "id": entity_id,
            "type": ent.type,
            **({"entity_linking": linking} if linking is not None else {}),
            "mentions": [{"name": m.text, "sent_id": m.sent, "pos": [m.start, m.end], **m.extra} for m in ent.mentions],
            **extra,
        })
    relations = []
    for rel in doc.relations:
        out: dict[str, Any] = {"r": rel.label, "h": ids[rel.head], "t": ids[rel.tail]}
        if rel.evidence is not None:
            out["evidence"] = list(rel.evidence)
        relations.append(out | dict(rel.extra))
    return {"title": doc.title, "sents": [list(s) for s in doc.sentences], "entities": entities,
            "relations": relations, **doc.meta.get("extra", {})}
