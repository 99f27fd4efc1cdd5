"""The DocRED JSON layout (``title``, ``sents``, ``vertexSet``, ``labels``) and its dialects.

One reader serves every file of that layout:

- ``docred``: DocRED, Re-DocRED, Revisit-DocRED (extra fields such as ``global_pos``, ``index``,
  ``pred_label`` and ``notes`` are kept and written back);
- ``docred-ie``: DocRED-IE, whose mentions add ``wikidata_qcode`` (a silver QID or null) and
  ``fine_type`` (``[class QID, label, score]`` triples). The entity QID is the majority over its
  mentions; disagreements stay visible through :attr:`Entity.has_qid_disagreement`;
- ``dwie-docred``: DWIE converted to this layout with links (KnowRA): mentions add
  ``absolute_pos`` (document offsets, derived and checked), ``link`` (gold Wikipedia title) and
  ``wikidata_eid`` (a silver QID). The BCBR conversion of DWIE has none of these and reads as
  plain ``docred``.

Documents are identified by their ``id`` field when present, else by their title (as DocRED's
own evaluation does).
"""

from __future__ import annotations

import functools
from collections.abc import Iterator
from typing import Any

from rexel_bench.data.formats.common import Where, plain_int_list, rest
from rexel_bench.data.model import Document, Entity, FineType, Mention, Relation, entity_from_mentions

NAME = "docred"
DIALECTS = ("docred", "docred-ie", "dwie-docred")

_DOC_KEYS = frozenset({"title", "sents", "vertexSet", "labels"})
_MENTION_KEYS = frozenset({"name", "sent_id", "pos", "type", "wikidata_qcode", "fine_type", "absolute_pos",
                           "link", "wikidata_eid"})
_LABEL_KEYS = frozenset({"h", "t", "r", "evidence"})


def looks_like(raw_doc: Any) -> bool:
    """Whether a raw document has the DocRED layout."""
    return isinstance(raw_doc, dict) and "vertexSet" in raw_doc and "sents" in raw_doc


def dialect_of(raw_doc: dict[str, Any]) -> str:
    """Which dialect a raw document is written in, from the fields of its mentions."""
    keys: set[str] = set()
    vertex_set = raw_doc.get("vertexSet")
    for entity in vertex_set if isinstance(vertex_set, list) else []:
        for mention in entity if isinstance(entity, list) else []:
            if isinstance(mention, dict):
                keys.update(mention)
    if "wikidata_eid" in keys or "absolute_pos" in keys:
        return "dwie-docred"
    if "wikidata_qcode" in keys or "fine_type" in keys:
        return "docred-ie"
    return "docred"


def _fine_types(where: Where, value: Any, field: str) -> tuple[FineType, ...]:
    if not isinstance(value, list):
        raise where.fail(field, "a list of [class QID, label, score]", value)
    out = []
    for i, item in enumerate(value):
        if (not isinstance(item, list) or len(item) != 3 or not isinstance(item[0], str)
                or not isinstance(item[2], (int, float))):
            raise where.fail(f"{field}[{i}]", "[class QID, label, score]", item)
        out.append(FineType(item[0], str(item[1]), float(item[2])))
    return tuple(out)


def _qid_key(dialect: str) -> str:
    """The mention field that holds the QID in a dialect."""
    return "wikidata_eid" if dialect == "dwie-docred" else "wikidata_qcode"


def _plain_optional_str(value: Any) -> bool:
    return value is None or value.__class__ is str


def _plain_fine_types(value: Any) -> tuple[FineType, ...] | None:
    """Fine types of the common layout (exact lists, strings and numbers); None when any needs the checked path."""
    if value is None:
        return ()
    if value.__class__ is not list:
        return None
    out = []
    for item in value:
        if (item.__class__ is not list or len(item) != 3 or item[0].__class__ is not str
                or item[2].__class__ not in (int, float)):
            return None
        out.append(FineType(item[0], str(item[1]), float(item[2])))
    return tuple(out)


def _plain_mention(raw: Any, qid_key: str) -> Mention | None:
    """The mention as :func:`_mention` reads it, for the common layout only (every field of its exact JSON
    type): None when any field needs the checked path, which then names the field in its error. The common
    case is checked without building a field name for every field of every mention, which only an error needs."""
    if raw.__class__ is not dict:
        return None
    get = raw.get
    pos, sent, name = get("pos"), get("sent_id"), get("name")
    if (pos.__class__ is not list or len(pos) != 2 or pos[0].__class__ is not int or pos[1].__class__ is not int
            or sent.__class__ is not int or name.__class__ is not str):
        return None
    kind, qid, link = get("type"), get(qid_key), get("link")
    fine = _plain_fine_types(get("fine_type"))
    if fine is None or not (_plain_optional_str(kind) and _plain_optional_str(qid) and _plain_optional_str(link)):
        return None
    return Mention(sent=sent, start=pos[0], end=pos[1], text=name, type=kind, qid=qid, fine_types=fine, link=link,
                   extra={**rest(raw, _MENTION_KEYS), "_keys": _known_keys(tuple(raw))})


def _plain_relation(label: Any) -> Relation | None:
    """The relation as :func:`parse` reads a label, for the common layout only; None when any field needs
    the checked path."""
    if label.__class__ is not dict:
        return None
    head, tail, name, evidence = label.get("h"), label.get("t"), label.get("r"), label.get("evidence")
    if head.__class__ is not int or tail.__class__ is not int or name.__class__ is not str:
        return None
    if evidence is not None and not plain_int_list(evidence):
        return None
    return Relation(head=head, tail=tail, label=name, evidence=tuple(evidence) if evidence is not None else None,
                    extra=rest(label, _LABEL_KEYS))


def _mention(where: Where, raw: Any, field: str, qid_key: str) -> Mention:
    start, end = where.span(raw, "pos", f"{field}.pos")
    fine = raw.get("fine_type")
    return Mention(
        sent=where.get(raw, "sent_id", int, f"{field}.sent_id"),
        start=start,
        end=end,
        text=where.get(raw, "name", str, f"{field}.name"),
        type=where.get(raw, "type", str, f"{field}.type", optional=True),
        qid=where.get(raw, qid_key, str, f"{field}.{qid_key}", optional=True),
        fine_types=_fine_types(where, fine, f"{field}.fine_type") if fine is not None else (),
        link=where.get(raw, "link", str, f"{field}.link", optional=True),
        extra={**rest(raw, _MENTION_KEYS), "_keys": _known_keys(tuple(raw))},
    )


@functools.cache
def _known_keys(keys: tuple[str, ...]) -> tuple[str, ...]:
    """The mention fields a reader interprets, as listed (sorted), for writing a mention back with the same
    fields; cached because a file's mentions share a handful of layouts."""
    return tuple(sorted(k for k in keys if k in _MENTION_KEYS))


def _checked_relation(where: Where, label: Any, field: str) -> Relation:
    return Relation(
        head=where.get(label, "h", int, f"{field}.h"),
        tail=where.get(label, "t", int, f"{field}.t"),
        label=where.get(label, "r", str, f"{field}.r"),
        evidence=where.int_list(label, "evidence", f"{field}.evidence", optional=True),
        extra=rest(label, _LABEL_KEYS),
    )


def parse(raw_doc: Any, index: int) -> Document:
    """Read one raw DocRED-layout document; raise a located DataError if its structure is wrong."""
    where = Where(index)
    if not isinstance(raw_doc, dict):
        raise where.fail("", "a document object", raw_doc)
    title = where.get(raw_doc, "title", str, "title")
    where = Where(index, title)
    dialect = dialect_of(raw_doc)
    qid_key = _qid_key(dialect)
    sentences = where.sentences(where.get(raw_doc, "sents", list, "sents"), "sents")
    entities = []
    for e, raw_entity in enumerate(where.get(raw_doc, "vertexSet", list, "vertexSet")):
        if not isinstance(raw_entity, list):
            raise where.fail(f"vertexSet[{e}]", "a list of mentions", raw_entity)
        mentions = [_plain_mention(m, qid_key) or _mention(where, m, f"vertexSet[{e}][{i}]", qid_key)
                    for i, m in enumerate(raw_entity)]
        entities.append(entity_from_mentions(mentions))
    relations = []
    for i, label in enumerate(where.get(raw_doc, "labels", list, "labels", optional=True, default=[])):
        relations.append(_plain_relation(label) or _checked_relation(where, label, f"labels[{i}]"))
    doc_id = raw_doc.get("id")
    return Document(
        id=str(doc_id) if doc_id is not None else title,
        title=title,
        sentences=sentences,
        entities=tuple(entities),
        relations=tuple(relations),
        meta={"format": dialect, "has_labels": "labels" in raw_doc, "extra": rest(raw_doc, _DOC_KEYS)},
    )


def named_facts(raw_doc: Any, index: int) -> Iterator[tuple[str, str, str]]:
    """(head mention name, tail mention name, relation) of every fact of a raw DocRED-layout document, reading
    and checking only the fields these need (what Ign F1 takes from a training file); a located DataError
    if one is wrong."""
    plain = _plain_named_facts(raw_doc)
    return iter(plain) if plain is not None else _checked_named_facts(raw_doc, index)


def _plain_named_facts(raw_doc: Any) -> list[tuple[str, str, str]] | None:
    """:func:`named_facts` for the common layout only (exact JSON types, indices in range); None when
    anything needs the checked path, which then names the field in its error."""
    if raw_doc.__class__ is not dict or raw_doc.get("vertexSet").__class__ is not list:
        return None
    labels = raw_doc.get("labels")
    if labels is None:
        labels = []
    elif labels.__class__ is not list:
        return None
    names = []
    for raw_entity in raw_doc["vertexSet"]:
        if raw_entity.__class__ is not list:
            return None
        entity_names = [m.get("name") if m.__class__ is dict else None for m in raw_entity]
        if any(name.__class__ is not str for name in entity_names):
            return None
        names.append(set(entity_names))
    out = []
    for label in labels:
        if label.__class__ is not dict:
            return None
        head, tail, relation = label.get("h"), label.get("t"), label.get("r")
        if (head.__class__ is not int or tail.__class__ is not int or relation.__class__ is not str
                or not 0 <= head < len(names) or not 0 <= tail < len(names)):
            return None
        out += [(h, t, relation) for h in names[head] for t in names[tail]]
    return out


def _checked_named_facts(raw_doc: Any, index: int) -> Iterator[tuple[str, str, str]]:
    where = Where(index)
    if not isinstance(raw_doc, dict):
        raise where.fail("", "a document object", raw_doc)
    where = Where(index, raw_doc.get("title") if isinstance(raw_doc.get("title"), str) else None)
    names = []
    for e, raw_entity in enumerate(where.get(raw_doc, "vertexSet", list, "vertexSet")):
        if not isinstance(raw_entity, list):
            raise where.fail(f"vertexSet[{e}]", "a list of mentions", raw_entity)
        names.append({where.get(m, "name", str, f"vertexSet[{e}][{i}].name") for i, m in enumerate(raw_entity)})
    for i, label in enumerate(where.get(raw_doc, "labels", list, "labels", optional=True, default=[])):
        ends = [where.get(label, key, int, f"labels[{i}].{key}") for key in ("h", "t")]
        relation = where.get(label, "r", str, f"labels[{i}].r")
        for key, end in zip(("h", "t"), ends, strict=True):
            if not 0 <= end < len(names):
                raise where.fail(f"labels[{i}].{key}", f"an entity index in 0..{len(names) - 1}", end)
        yield from ((h, t, relation) for h in names[ends[0]] for t in names[ends[1]])


def _mention_keys(doc: Document, mention: Mention, dialect: str) -> list[str]:
    keys = mention.extra.get("_keys")
    if keys is not None and doc.meta.get("format") == dialect:
        return list(keys)
    base = ["name", "sent_id", "pos", "type"]
    if dialect == "docred-ie":
        return [*base, "wikidata_qcode", "fine_type"]
    if dialect == "dwie-docred":
        return [*base, "absolute_pos", "link", "wikidata_eid"]
    return base


def _dump_mention(doc: Document, entity: Entity, mention: Mention, dialect: str) -> dict[str, Any]:
    own_qids = any(m.qid is not None for m in entity.mentions)
    own_fine = any(m.fine_types for m in entity.mentions)
    own_links = any(m.link is not None for m in entity.mentions)
    values: dict[str, Any] = {
        "name": mention.text,
        "sent_id": mention.sent,
        "pos": [mention.start, mention.end],
        "type": mention.type if mention.type is not None else entity.type,
        "wikidata_qcode": mention.qid if own_qids else entity.qid,
        "wikidata_eid": mention.qid if own_qids else entity.qid,
        "fine_type": [[f.qid, f.label, f.score] for f in (mention.fine_types if own_fine else entity.fine_types)],
        "link": mention.link if own_links else entity.link,
    }
    if "absolute_pos" in _mention_keys(doc, mention, dialect):
        values["absolute_pos"] = list(doc.doc_span(mention))
    out = {k: values[k] for k in _mention_keys(doc, mention, dialect)}
    out.update({k: v for k, v in mention.extra.items() if k != "_keys"})
    return out


def dump(doc: Document, dialect: str | None = None) -> dict[str, Any]:
    """Write one document in the DocRED layout, in its own dialect unless one is given."""
    own = doc.meta.get("format")
    dialect = dialect or (own if own in DIALECTS else "docred")
    out: dict[str, Any] = {
        "title": doc.title,
        "sents": [list(s) for s in doc.sentences],
        "vertexSet": [[_dump_mention(doc, e, m, dialect) for m in e.mentions] for e in doc.entities],
    }
    if doc.meta.get("has_labels", True):
        labels = []
        for rel in doc.relations:
            label: dict[str, Any] = {"r": rel.label, "h": rel.head, "t": rel.tail}
            if rel.evidence is not None:
                label["evidence"] = list(rel.evidence)
            label.update(rel.extra)
            labels.append(label)
        out["labels"] = labels
    out.update(doc.meta.get("extra", {}))
    return out
