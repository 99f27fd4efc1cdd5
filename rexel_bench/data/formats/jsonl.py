"""The toolkit's own format: JSON Lines, one document per line, described by a published JSON Schema.

Every line carries ``schema_version`` (currently 1); the schema is
``rexel_bench/schemas/document.schema.json``. It is the format of predictions (every model writes
it, ``file:<path>`` reads it) and it holds everything the document model holds, so any dataset can
be converted to it and back.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from functools import lru_cache
from typing import Any

from rexel_bench.data.formats.common import Where
from rexel_bench.data.model import NO_TEXT, Document, Entity, FineType, Mention, Relation
from rexel_bench.resources import schema_text

NAME = "jsonl"
SCHEMA_VERSION = 1


@lru_cache(maxsize=1)
def schema() -> dict[str, Any]:
    """The published JSON Schema of one line of the format."""
    return json.loads(schema_text("document.schema.json"))


def looks_like(raw_doc: Any) -> bool:
    """Whether a raw document is a line of the toolkit's format."""
    return isinstance(raw_doc, dict) and "schema_version" in raw_doc and "entities" in raw_doc


_DOC_KEYS = frozenset({"schema_version", "id", "title", "sentences", "entities", "relations", "meta"})
_ENTITY_KEYS = frozenset({"mentions", "type", "qid", "fine_types", "tags", "link", "extra"})
_MENTION_KEYS = frozenset({"sent", "start", "end", "text", "type", "qid", "fine_types", "link", "char_span", "extra"})
_FINE_KEYS = frozenset({"qid", "label", "score"})
_RELATION_KEYS = frozenset({"head", "tail", "label", "evidence", "score", "extra"})
_TOKEN_SPAN = ("sent", "start", "end")


def plainly_valid(raw_doc: Any) -> bool:
    """Whether a line's object is valid under the schema, by a check of exact JSON types that takes a fraction
    of the JSON Schema validator's time (7 ms a document). True only where the schema accepts; False also where
    the schema may accept something unusual (``1.0`` for an integer): that goes to the validator, as every
    error does, since it alone names the field."""
    return (raw_doc.__class__ is dict and raw_doc.keys() <= _DOC_KEYS
            and raw_doc.get("schema_version").__class__ is int and raw_doc["schema_version"] == 1
            and _string(raw_doc.get("id")) and raw_doc["id"] != "" and _absent_or(raw_doc, "title", _string)
            and _absent_or(raw_doc, "meta", _object) and _list_of(raw_doc.get("sentences"), _strings)
            and _list_of(raw_doc.get("entities"), _plain_entity)
            and _list_of(raw_doc.get("relations"), _plain_relation))


def _string(value: Any) -> bool:
    return value.__class__ is str


def _object(value: Any) -> bool:
    return value.__class__ is dict


def _number(value: Any) -> bool:
    return value.__class__ is int or value.__class__ is float


def _count(value: Any) -> bool:
    """A non-negative integer (``minimum: 0``)."""
    return value.__class__ is int and value >= 0


def _list_of(value: Any, item: Callable[[Any], bool]) -> bool:
    return value.__class__ is list and all(map(item, value))


def _strings(value: Any) -> bool:
    return _list_of(value, _string)


def _absent_or(obj: dict[str, Any], key: str, check: Callable[[Any], bool]) -> bool:
    """An optional field is absent or passes the check (null is a value, and the schema refuses it)."""
    return key not in obj or check(obj[key])


def _fine_types(value: Any) -> bool:
    return _list_of(value, _plain_fine_type)


def _plain_fine_type(fine: Any) -> bool:
    return (fine.__class__ is dict and fine.keys() <= _FINE_KEYS and _string(fine.get("qid"))
            and _absent_or(fine, "label", _string) and _absent_or(fine, "score", _number))


def _plain_entity(entity: Any) -> bool:
    return (entity.__class__ is dict and entity.keys() <= _ENTITY_KEYS
            and _list_of(entity.get("mentions"), _plain_mention)
            and _absent_or(entity, "type", _string) and _absent_or(entity, "qid", _string)
            and _absent_or(entity, "link", _string) and _absent_or(entity, "extra", _object)
            and _absent_or(entity, "fine_types", _fine_types) and _absent_or(entity, "tags", _strings))


def _plain_mention(mention: Any) -> bool:
    if mention.__class__ is not dict or not mention.keys() <= _MENTION_KEYS or not _string(mention.get("text")):
        return False
    token_span = [mention.get(key) for key in _TOKEN_SPAN]  # all three or none (dependentRequired)
    return ((all(map(_count, token_span)) or not any(key in mention for key in _TOKEN_SPAN))
            and _absent_or(mention, "type", _string) and _absent_or(mention, "qid", _string)
            and _absent_or(mention, "link", _string) and _absent_or(mention, "extra", _object)
            and _absent_or(mention, "fine_types", _fine_types) and _absent_or(mention, "char_span", _char_span))


def _char_span(value: Any) -> bool:
    return value.__class__ is list and len(value) == 2 and value[0].__class__ is int and value[1].__class__ is int


def _plain_relation(relation: Any) -> bool:
    return (relation.__class__ is dict and relation.keys() <= _RELATION_KEYS
            and _count(relation.get("head")) and _count(relation.get("tail"))
            and _string(relation.get("label")) and relation["label"] != ""
            and _absent_or(relation, "evidence", lambda evidence: _list_of(evidence, _count))
            and _absent_or(relation, "score", _number) and _absent_or(relation, "extra", _object))


@lru_cache(maxsize=1)
def _validator() -> Any:
    """The JSON Schema validator of a line, built once, with "integer" meaning a JSON integer: the schema language
    lets ``14.0`` pass as one, and an index that is a float would reach the scorers."""
    import jsonschema

    base = jsonschema.Draft202012Validator
    checker = base.TYPE_CHECKER.redefine("integer", lambda _, value: value.__class__ is int)
    return jsonschema.validators.extend(base, type_checker=checker)(schema())


def _schema_error(where: Where, raw_doc: Any) -> None:
    validator = _validator()
    error = next(iter(sorted(validator.iter_errors(raw_doc), key=lambda e: list(e.absolute_path))), None)
    if error is None:
        return
    path = "".join(f"[{p}]" if isinstance(p, int) else f".{p}" for p in error.absolute_path).lstrip(".")
    raise where.fail(path, error.message if error.validator != "type" else f"{error.validator_value}",
                     error.instance)


def _fine(items: list[dict[str, Any]]) -> tuple[FineType, ...]:
    return tuple(FineType(f["qid"], f.get("label", ""), f.get("score")) for f in items)


def parse(raw_doc: Any, index: int) -> Document:
    """Read one line's object; the JSON Schema is checked first, so errors name the exact field."""
    title = raw_doc.get("title") if isinstance(raw_doc, dict) else None
    where = Where(index, title if isinstance(title, str) else None)
    if not plainly_valid(raw_doc):
        _schema_error(where, raw_doc)
    if raw_doc["schema_version"] != SCHEMA_VERSION:
        raise where.fail("schema_version", f"{SCHEMA_VERSION}", raw_doc["schema_version"])
    entities = []
    for ent in raw_doc["entities"]:
        mentions = tuple(
            Mention(
                sent=m.get("sent", NO_TEXT), start=m.get("start", NO_TEXT), end=m.get("end", NO_TEXT),
                text=m["text"], type=m.get("type"), qid=m.get("qid"), fine_types=_fine(m.get("fine_types", [])),
                link=m.get("link"), char_span=tuple(m["char_span"]) if m.get("char_span") else None,
                extra=m.get("extra", {}),
            )
            for m in ent["mentions"]
        )
        entities.append(Entity(
            mentions=mentions, type=ent.get("type"), qid=ent.get("qid"), fine_types=_fine(ent.get("fine_types", [])),
            tags=tuple(ent.get("tags", [])), link=ent.get("link"), extra=ent.get("extra", {}),
        ))
    relations = tuple(
        Relation(head=r["head"], tail=r["tail"], label=r["label"],
                 evidence=tuple(r["evidence"]) if r.get("evidence") is not None else None,
                 score=r.get("score"), extra=r.get("extra", {}))
        for r in raw_doc["relations"]
    )
    return Document(
        id=raw_doc["id"], title=raw_doc.get("title", raw_doc["id"]),
        sentences=tuple(tuple(s) for s in raw_doc["sentences"]),
        entities=tuple(entities), relations=relations, meta=raw_doc.get("meta", {}),
    )


def _without_none(obj: dict[str, Any]) -> dict[str, Any]:
    return {k: v for k, v in obj.items() if v is not None and v != {} and v != ()}


def _dump_fine(fine: tuple[FineType, ...]) -> list[dict[str, Any]] | None:
    return [_without_none({"qid": f.qid, "label": f.label, "score": f.score}) for f in fine] or None


def dump(doc: Document) -> dict[str, Any]:
    """One document as a line object of the toolkit's format."""
    entities = []
    for ent in doc.entities:
        mentions = []
        for m in ent.mentions:
            token_span = {"sent": m.sent, "start": m.start, "end": m.end} if m.sent != NO_TEXT else {}
            mentions.append(_without_none({
                **token_span, "text": m.text, "type": m.type, "qid": m.qid, "fine_types": _dump_fine(m.fine_types),
                "link": m.link, "char_span": list(m.char_span) if m.char_span else None, "extra": dict(m.extra),
            }))
        entities.append(_without_none({
            "type": ent.type, "qid": ent.qid, "fine_types": _dump_fine(ent.fine_types),
            "tags": list(ent.tags) or None, "link": ent.link, "mentions": mentions, "extra": dict(ent.extra),
        }))
    relations = [
        _without_none({"head": r.head, "tail": r.tail, "label": r.label,
                       "evidence": list(r.evidence) if r.evidence is not None else None,
                       "score": r.score, "extra": dict(r.extra)})
        for r in doc.relations
    ]
    return {
        "schema_version": SCHEMA_VERSION, "id": doc.id, "title": doc.title,
        "sentences": [list(s) for s in doc.sentences], "entities": entities, "relations": relations,
        **({"meta": dict(doc.meta)} if doc.meta else {}),
    }
